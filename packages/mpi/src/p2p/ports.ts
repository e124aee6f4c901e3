/**
 * The few operations the message layer uses from @tsmpi/vm, @tsmpi/fabric and @tsmpi/rcache, and
 * from the job's control block, named structurally so the protocol code reads on its own and unit
 * tests can run it over real packages without the launcher. src/rank/runtime.ts plugs the real
 * objects in; the launcher's ControlBlock implements JobControlPort.
 */
import type { Completion, Sge } from '@tsmpi/fabric';

export interface SpacePort {
  /** The physical runs behind [addr, addr + length), faulting pages in; throws (SEGV) where the rank has no such memory. */
  runs(addr: number, length: number, access: 'read' | 'write'): unknown;
  /** The rank's mappings (@tsmpi/vm's Vma: [start, end) and its protection bits), read without touching a page. */
  mappings?(): readonly { start: number; end: number; prot: number }[];
  /** Bytes per page (the pipelined rendezvous cuts chunks at page boundaries); 4096 when absent. */
  readonly pageSize?: number;
  read(addr: number, length: number): Uint8Array;
  /** `target.length` bytes from `addr` into `target` (no allocation). */
  readInto(addr: number, target: Uint8Array): void;
  write(addr: number, data: ArrayBufferView): void;
  copy(dst: number, src: number, length: number): void;
  /** A window on [addr, addr + length) that stays good while the mappings under it do (@tsmpi/vm's MappedView). */
  view(addr: number, length: number, access: 'read' | 'write'): SpaceWindow;
}

/** What the engine uses of a MappedView: zero-copy bytes when the frames are consecutive, checked with one atomic load. */
export interface SpaceWindow {
  readonly contiguous: boolean;
  /** False once a page under it maps another frame (or none): refresh() before the next use. */
  readonly valid: boolean;
  readonly bytes: Uint8Array;
  write(data: Uint8Array, offset?: number): void;
  refresh(): unknown;
}

export interface ClockPort {
  readonly now: number;
  advance(us: number): void;
  advanceTo(t: number): void;
  /** Like advanceTo, because the rank waited for something to happen (the program clock counts it as waiting). */
  idleUntil?(t: number): void;
}

/** The clock reaches `t` because the rank waited for it: a completion, an arrival (compute.ts's time split). */
export function idleUntil(clock: ClockPort, t: number): void {
  if (clock.idleUntil) clock.idleUntil(t);
  else clock.advanceTo(t);
}

/** The fabric's completion, as the engine reads it. */
export type CompletionPort = Completion;

export interface CqPort {
  poll(max?: number): CompletionPort[];
  /** poll() into `out`, reusing its completion objects; returns how many (fabric's CompletionQueue.pollInto). */
  pollInto(out: CompletionPort[], max?: number): number;
  readonly doorbell: number;
  wait(seen: number, timeoutMs: number): boolean;
  /** After the polled completions are accounted for: the CQ's watermark may rise (exact timing). */
  retire?(): void;
  /** The earliest time among completions not yet retired (exact timing). */
  readonly watermark?: number;
}

export type SgePort = Sge;

export interface QpPort {
  readonly qpNum: number;
  /** In verbs' error state: the status that put it there and why (fabric's QueuePair.error). */
  readonly error?: { status: string; cause: string } | undefined;
  postSend(wr: { wrId: number; sge: SgePort; immData?: number; signaled?: boolean }): void;
  /** `timed`: called once the read's times are fixed, before its bytes move (fabric's RdmaWorkRequest.timed). */
  rdmaRead(wr: { wrId: number; sge: SgePort; sgl?: readonly SgePort[]; remoteAddr: number; rkey: number; signaled?: boolean; timed?: () => void }): void;
}

/** The queue pair towards each world rank; connected on first use (rank/connections.ts). */
export interface QueuePairsPort {
  to(worldRank: number): QpPort;
  /** The world rank whose queue pair is number `qpNum`, or -1. */
  peerOf(qpNum: number): number;
  /** The queue pair towards `worldRank` if one is open. */
  opened(worldRank: number): QpPort | undefined;
}

export interface RecvQueuePort {
  postRecv(wr: { wrId: number; sge: SgePort }): void;
}

export interface MemoryRegionPort {
  readonly lkey: number;
  readonly rkey: number;
  readonly addr: number;
  readonly length: number;
}

export interface RegistrationPort {
  readonly handle: MemoryRegionPort;
}

export interface RegistrationProviderPort {
  acquire(addr: number, length: number, access: number): RegistrationPort;
  release(reg: RegistrationPort): void;
}

/** Cost-model fields the message layer charges itself (the adapter charges the rest). */
export interface MessageCosts {
  overheadUs: number;
  pollUs: number;
  memcpyGBps: number;
}

/** What a blocked rank is waiting for (reported by the deadlock detector). */
export const WaitKind = { NONE: 0, RECV: 1, SEND: 2, PROBE: 3, REQUEST: 4, FINALIZE: 5, HORIZON: 6 } as const;

export interface WaitDescription {
  kind: number;
  peer: number;
  tag: number;
  context: number;
}

/** The job's control block as the engine uses it: the abort flag, and what the deadlock detector watches. */
export interface JobControlPort {
  readonly aborted: boolean;
  /** This rank handed data to another rank. */
  noteActivity(): void;
  /** This rank's progress moved something. */
  bumpEpoch(rank: number): void;
  /** The rank is about to sleep waiting for `wait`; unblock() when it wakes. */
  block(rank: number, wait: WaitDescription): void;
  /** A poll (test, iprobe) for `wait` found nothing; unblock() once one finds something. */
  poll(rank: number, wait: WaitDescription): void;
  unblock(rank: number): void;
  /** The rank goes to sleep (+1) in a blocking wait, or wakes from it (-1). */
  sleeping(delta: 1 | -1): void;
  /** The job's ranks not asleep in a blocking wait right now. */
  readonly awake: number;
  /** --inject stall:MS: wall ms the rank stays off its core after each sleep (0: none). */
  readonly wakeStallMs: number;
}
