import type { CostModel } from './model.js';

/**
 * The pricing formulas (LogGP-style). Exported so tests and the study check the simulation
 * against them rather than against numbers copied by hand.
 *
 *   initiator:  t0 ──o──┐ (clock after the post)
 *   wire:               └──L + n·G──► arrive (data at the target; recv completion)
 *   ack:                                └──L──► complete (send / RDMA-write completion)
 *   RDMA read:  t0 + o + L (request) + L + n·G (response) = complete
 */
export type TransferOp = 'send' | 'write' | 'read';

export interface TransferTimes {
  /** The initiator's clock after posting: t0 + o. */
  posted: number;
  /** Data visible at the target (receive completion time; RDMA write landed; read data left the responder). */
  arrive: number;
  /** The initiator's completion time. */
  complete: number;
}

export function latencyUs(cost: CostModel, sameNode: boolean): number {
  return sameNode && cost.loopbackLatencyUs !== null ? cost.loopbackLatencyUs : cost.latencyUs;
}

/** G: µs per byte (1 GB/s = 1000 bytes per µs). */
export function gapPerByteUs(cost: CostModel, sameNode: boolean): number {
  const gbps = sameNode && cost.loopbackBandwidthGBps !== null ? cost.loopbackBandwidthGBps : cost.bandwidthGBps;
  return 1 / (gbps * 1000);
}

/**
 * Times of one transfer of `bytes` posted at initiator time `t0`. `extraUs` (ODP fault time) delays
 * the data and everything after it.
 */
export function transferTimes(
  cost: CostModel,
  op: TransferOp,
  bytes: number,
  t0: number,
  sameNode: boolean,
  extraUs = 0,
): TransferTimes {
  const o = cost.overheadUs;
  const L = latencyUs(cost, sameNode);
  const wire = bytes * gapPerByteUs(cost, sameNode);
  const posted = t0 + o;
  if (op === 'read') {
    const arrive = posted + L + extraUs;
    return { posted, arrive, complete: arrive + L + wire };
  }
  const arrive = posted + L + wire + extraUs;
  return { posted, arrive, complete: arrive + L };
}

/**
 * A parked send (no receive was posted when it arrived) is delivered when the receive is
 * posted at `recvPostedAt`: the sender's retry comes one RNR timer later, unless the receive was
 * already there in virtual time.
 */
export function rnrDeliveryTime(cost: CostModel, arrive: number, recvPostedAt: number): number {
  return recvPostedAt <= arrive ? arrive : recvPostedAt + cost.rnrTimerUs;
}

export type BackendKind = 'pinning' | 'odp';

export function pagesSpanned(addr: number, length: number, pageSize: number): number {
  if (length <= 0) return 0;
  return Math.floor((addr + length - 1) / pageSize) - Math.floor(addr / pageSize) + 1;
}

/** Price of registering `pages` pages (charged to the registering domain's clock). */
export function registrationCost(cost: CostModel, kind: BackendKind, pages: number): number {
  return kind === 'odp' ? cost.odpRegBaseUs + pages * cost.odpRegPerPageUs : cost.regBaseUs + pages * cost.regPerPageUs;
}

/** Price of deregistering `pages` pages (the same for both backends: the HCA invalidates the MKey). */
export function deregistrationCost(cost: CostModel, _kind: BackendKind, pages: number): number {
  return cost.deregBaseUs + pages * cost.deregPerPageUs;
}

/** Price of the network page faults of one request that missed in `faultingChunks` chunks of odpFaultChunkBytes. */
export function odpFaultCost(cost: CostModel, faultingChunks: number): number {
  return faultingChunks * cost.odpFaultUs;
}
