import type { AddressSpaceHandle } from '@tsmpi/vm';

/** One element of an iovec array (struct iovec): `length` bytes at `addr`. */
export interface Iovec {
  addr: number;
  length: number;
}

/**
 * Who a process is to the intra-node transports: structured-cloneable, handed to peers out of band
 * (the MPI wire-up does it). `space` is the page table CMA and XPMEM translate through; `job`
 * decides who may read whom (process_vm_readv's ptrace check, XPMEM's permit mode).
 */
export interface IntranodePeer {
  kind: 'intranode-peer';
  nodeId: number;
  pid: number;
  job: number;
  space: AddressSpaceHandle;
}

/** Sizes of the node's shared intra-node tables, fixed at creation. */
export interface IntranodeLimits {
  /** Process ids 0 .. maxProcesses-1 (64). */
  maxProcesses: number;
  /** XPMEM segments on the node (256). */
  maxSegments: number;
  /** XPMEM attachments on the node (2048). */
  maxAttachments: number;
  /** Slots of each shared-memory ring (16). */
  ringSlots: number;
  /** Bytes per ring slot: the pipelining chunk of the shm double copy (8 KiB, UCX mm's segment size). */
  chunkBytes: number;
  /** Shared arena for rings and attachment page tables (32 MiB). */
  arenaBytes: number;
}

export const DEFAULT_INTRANODE_LIMITS: IntranodeLimits = Object.freeze({
  maxProcesses: 64,
  maxSegments: 256,
  maxAttachments: 2048,
  ringSlots: 16,
  chunkBytes: 8192,
  arenaBytes: 32 * 1024 * 1024,
});

/** XPMEM segment permissions (XPMEM_RDONLY / XPMEM_RDWR). */
export type XpmemPerm = 'r' | 'rw';

/** What xpmem_make hands out: structured-cloneable; give it to the importers. */
export interface XpmemSegment {
  kind: 'xpmem-segment';
  segid: number;
  owner: IntranodePeer;
  addr: number;
  length: number;
  perm: XpmemPerm;
}

/** Counters of one process's intra-node traffic (local to its thread; exact). */
export interface IntranodeStats {
  /** shm sends the ring took whole (one taken over several calls counts once, at its last) */
  shmSends: number;
  shmSendBytes: number;
  /** shm receives the ring filled whole (likewise) */
  shmRecvs: number;
  shmRecvBytes: number;
  shmChunks: number;
  /** chunks whose slot the receiver had not yet emptied at the sender's virtual time (the sender waited) */
  shmRingFull: number;
  cmaCalls: number;
  cmaBytes: number;
  cmaPages: number;
  cmaPartial: number;
  cmaErrors: number;
  xpmemSegments: number;
  xpmemGets: number;
  xpmemAttaches: number;
  xpmemDetaches: number;
  xpmemFaultPages: number;
  xpmemCopies: number;
  xpmemCopyBytes: number;
  /** pages of other processes' attachments zapped by this process's mmu notifier */
  xpmemZappedPages: number;
  /** invalidations of this process's exported ranges that hit at least one attachment */
  xpmemInvalidations: number;
  attachCacheHits: number;
  attachCacheMisses: number;
  attachCacheEvictions: number;
  attachCacheDropped: number;
}

export function emptyIntranodeStats(): IntranodeStats {
  return {
    shmSends: 0, shmSendBytes: 0, shmRecvs: 0, shmRecvBytes: 0, shmChunks: 0, shmRingFull: 0,
    cmaCalls: 0, cmaBytes: 0, cmaPages: 0, cmaPartial: 0, cmaErrors: 0,
    xpmemSegments: 0, xpmemGets: 0, xpmemAttaches: 0, xpmemDetaches: 0, xpmemFaultPages: 0,
    xpmemCopies: 0, xpmemCopyBytes: 0, xpmemZappedPages: 0, xpmemInvalidations: 0,
    attachCacheHits: 0, attachCacheMisses: 0, attachCacheEvictions: 0, attachCacheDropped: 0,
  };
}
