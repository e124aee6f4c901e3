import type { StatusName } from './constants.js';

import type { AdapterKind, PinMode } from './kinds.js';

export type { AdapterKind, PinMode };

/** Sizes of the adapter's shared tables, fixed at creation. */
export interface AdapterLimits {
  maxDomains: number;
  maxMemoryRegions: number;
  maxQueuePairs: number;
  maxCompletionQueues: number;
  maxReceiveQueues: number;
  /** Shared arena for MR page tables, CQ rings, receive rings and parked sends, bytes. */
  arenaBytes: number;
  /** Scatter/gather elements one RDMA work request may carry (verbs max_sge; ConnectX-5/6 report 30). */
  maxSge: number;
}

/** A registered range. Plain and cloneable: the rkey (with addr/length) is what a peer needs. */
export interface MemoryRegion {
  readonly lkey: number;
  readonly rkey: number;
  readonly addr: number;
  readonly length: number;
  readonly access: number;
  /** Pages spanned: what the registration was charged for. */
  readonly pages: number;
}

/** Where a queue pair lives; hand it to the peer out of band and pass it to connect(). */
export interface QpAddress {
  nodeId: number;
  qpNum: number;
  domainId: number;
  /** The owner's AddressSpaceHandle (ODP faults and parked sends translate through it). */
  space: unknown;
}

/** One scatter/gather element: a range inside a local memory region. */
export interface Sge {
  lkey: number;
  addr: number;
  length: number;
}

export interface RecvWorkRequest {
  wrId: number;
  sge: Sge;
}

export interface SendWorkRequest {
  wrId: number;
  sge: Sge;
  /** 32-bit immediate data delivered with the receive completion. */
  immData?: number;
  /** false: no completion on success (errors always complete). Default true. */
  signaled?: boolean;
}

export interface RdmaWorkRequest {
  wrId: number;
  /** Local buffer: the source of a write, the target of a read. */
  sge: Sge;
  /**
   * A scatter/gather list (verbs sg_list) instead of `sge`: the local side in pieces, possibly of
   * several regions, filled (read) or gathered (write) in order against one contiguous remote range.
   * At most the adapter's maxSge elements; each one past the first costs cost.sgeUs.
   */
  sgl?: readonly Sge[];
  remoteAddr: number;
  rkey: number;
  signaled?: boolean;
  /**
   * Called during the post, once the transfer's times are fixed (its ports reserved, its completion
   * pushed) and before its bytes move (a copy of up to the whole message): a caller that orders its
   * posts in virtual time can let other threads go on meanwhile. Not called if the transfer fails, nor
   * for a scatter/gather list of more than one element, nor across processes.
   */
  timed?: () => void;
}

/**
 * An 8-byte remote atomic (verbs IBV_WR_ATOMIC_FETCH_AND_ADD / CMP_AND_SWP): the target word's old
 * value lands in the local sge (8 bytes, LOCAL_WRITE). remoteAddr must be 8-byte aligned.
 */
export interface AtomicWorkRequest {
  wrId: number;
  sge: Sge;
  remoteAddr: number;
  rkey: number;
  /** fetch-add: the addend; compare-swap: the value compared with the target. Two's complement 64-bit. */
  compareAdd: bigint;
  /** compare-swap: the value stored when the comparison holds (ignored by fetch-add). */
  swap?: bigint;
  signaled?: boolean;
}

export interface Completion {
  status: number;
  opcode: number;
  byteLength: number;
  wrId: number;
  qpNum: number;
  immData?: number;
  /** Virtual µs at which the completion becomes visible. */
  time: number;
}

/** Per-domain (and, summed, per-adapter) counters; exact. */
export interface FabricStats {
  registrations: number;
  deregistrations: number;
  /** Current registered bytes. */
  registeredBytes: number;
  /** Pages currently pinned by registrations (pinMode 'pin'). */
  pinnedPages: number;
  /** Pages currently mlocked by registrations (pinMode 'mlock'). */
  mlockedPages: number;
  /** Requests that took a network page fault (ODP). */
  odpFaults: number;
  /** Pages faulted in by network page faults. */
  odpFaultPages: number;
  /** Notifier callbacks that zapped at least one entry. */
  odpInvalidations: number;
  odpZappedPages: number;
  /** Pages faulted in by advise(). */
  prefetchPages: number;
  sendOps: number;
  sendBytes: number;
  recvOps: number;
  recvBytes: number;
  writeOps: number;
  writeBytes: number;
  readOps: number;
  readBytes: number;
  /** Sends parked for lack of a posted receive. */
  rnrParked: number;
  /** Parked sends delivered later. */
  rnrDelivered: number;
  /** Sends that found no receive with a finite rnrRetry. */
  rnrExceeded: number;
  /** Remote atomics (fetch-add, compare-swap) completed by this domain as initiator. */
  atomicOps: number;
  /** Error completions by status, counted in the domain that received them. */
  errors: Record<Exclude<StatusName, 'SUCCESS'>, number>;
}
