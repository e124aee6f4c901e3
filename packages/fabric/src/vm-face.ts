/*
 * What the fabric needs from @tsmpi/vm, stated structurally (docs/contracts.md, @tsmpi/vm):
 * the real PhysicalMemory / AddressSpace / RemoteAddressSpace satisfy these.
 */
export interface PhysicalMemoryLike {
  readonly pageSize: number;
  readonly frameCount: number;
  readonly bytes: Uint8Array;
  readonly handle: unknown;
}

export interface InvalidationRangeLike {
  start: number;
  end: number;
  event: string;
  cause: string;
}

export interface MmuNotifierSubscriberLike {
  invalidateRangeStart(r: InvalidationRangeLike): void;
  invalidateRangeEnd(r: InvalidationRangeLike): void;
  release(): void;
}

export interface RemoteSpaceLike {
  readonly pageSize: number;
  readBegin(): number;
  readRetry(seq: number): boolean;
  translate(addr: number): number | undefined;
  fault(addr: number, access: 'read' | 'write'): number;
}

export interface AddressSpaceLike {
  readonly memory: PhysicalMemoryLike;
  readonly pageSize: number;
  translate(addr: number): number | undefined;
  readonly handle: unknown;
  pin(addr: number, length: number): number[];
  unpin(frames: number[]): void;
  mlock(addr: number, length: number): void;
  munlock(addr: number, length: number): void;
  readonly mmuNotifier: { subscribe(s: MmuNotifierSubscriberLike): () => void };
}
