import type { CostModel } from '../cost/model.js';

/*
 * Prices of the intra-node transports (virtual µs). Exported so tests and the bench check the
 * simulation against the formulas rather than against numbers copied by hand.
 *
 *   shm   per chunk c of a message of n bytes:  sender  c/B(n)  → visible L_shm later →
 *                                              receiver c/B(n); chunks pipeline through the ring
 *         B(n) = shmGBps, or shmLargeGBps once n > shmCacheBytes
 *   cma   per call: cmaCallUs + pages × cmaPerPageUs + bytes / cmaGBps   (pages of the remote side)
 *   xpmem attach: xpmemAttachMissUs (a cache hit: xpmemAttachHitUs); each page faulted through the
 *         exporter's page table: xpmemFaultUs; the copy itself: bytes / shmGBps (one copy)
 */

const perUs = (gbps: number): number => gbps * 1000;

/** One copy (in or out) of a `chunk`-byte piece of an `n`-byte shm message. */
export function shmCopyUs(cost: CostModel, messageBytes: number, chunk: number): number {
  const gbps = messageBytes > cost.shmCacheBytes ? cost.shmLargeGBps : cost.shmGBps;
  return chunk / perUs(gbps);
}

/** One process_vm_readv / writev call that touched `pages` remote pages and moved `bytes`. */
export function cmaCallCost(cost: CostModel, bytes: number, pages: number): number {
  return cost.cmaCallUs + pages * cost.cmaPerPageUs + bytes / perUs(cost.cmaGBps);
}

/** The single copy through an XPMEM attachment. */
export function xpmemCopyUs(cost: CostModel, bytes: number): number {
  return bytes / perUs(cost.shmGBps);
}

/** An attach: from the attachment cache (hit) or a new xpmem_attach (miss). */
export function xpmemAttachCost(cost: CostModel, hit: boolean): number {
  return hit ? cost.xpmemAttachHitUs : cost.xpmemAttachMissUs;
}

export function xpmemFaultCost(cost: CostModel, pages: number): number {
  return pages * cost.xpmemFaultUs;
}
