import type { CostModel } from './model.js';
import type { AdapterKind } from '../kinds.js';

/**
 * The pricing formulas (LogGP-style). Exported so tests and the study check the simulation
 * against them rather than against numbers copied by hand.
 *
 *   initiator:  t0 ──o──┐ (clock after the post)
 *   sender tx:          └─ start = first gap ≥ t0 + o on the data's source port, held n·G
 *   receiver rx:              first byte at start + L; held n·G from max(start + L, its port's gap)
 *                             ──► arrive (the last byte is in: recv completion, RDMA write landed)
 *   ack:                                └──L──► complete (send / RDMA-write completion)
 *   RDMA read:  the request reaches the responder at t0 + o + L; the response is the data,
 *               from the responder's tx to the initiator's rx; complete = when it is all in.
 *
 * G is a gap: consecutive bytes through one port are spaced by it, so a window of transfers
 * through one port (or several senders into one) never exceeds the link's bandwidth.
 */
export type TransferOp = 'send' | 'write' | 'read';

export interface TransferTimes {
  /** The initiator's clock after posting: t0 + o. */
  posted: number;
  /** The first byte of data leaves the source port (for a read: the responder's). */
  start: number;
  /** Data visible at the target (receive completion time; RDMA write landed; read data left the responder). */
  arrive: number;
  /** The initiator's completion time. */
  complete: number;
}

/**
 * Where a transfer's bytes queue. `transmit` is the port the data leaves (the sender's; for an
 * RDMA read the responder's), `receive` the port it enters. Each is asked for an occupancy of
 * `duration` µs that may begin at `ready`, and answers when it begins (≥ ready). The adapter
 * passes its ports' calendars; IDLE_PORTS prices a transfer alone on an idle link.
 */
export interface LinkPorts {
  transmit(ready: number, duration: number): number;
  receive(ready: number, duration: number): number;
}

const idle = (ready: number): number => ready;
export const IDLE_PORTS: LinkPorts = Object.freeze({ transmit: idle, receive: idle });

export function latencyUs(cost: CostModel, sameNode: boolean): number {
  return sameNode && cost.loopbackLatencyUs !== null ? cost.loopbackLatencyUs : cost.latencyUs;
}

/** G: µs per byte (1 GB/s = 1000 bytes per µs). */
export function gapPerByteUs(cost: CostModel, sameNode: boolean): number {
  const gbps = sameNode && cost.loopbackBandwidthGBps !== null ? cost.loopbackBandwidthGBps : cost.bandwidthGBps;
  return 1 / (gbps * 1000);
}

/**
 * Times of one transfer of `bytes` posted at initiator time `t0`, reserving its occupancy of
 * `ports` (default: idle ports, the transfer alone). `extraUs` (ODP fault time) delays the data
 * and everything after it, but does not hold the port: a QP stalled on a network page fault is
 * RNR-NAKed and the port serves other QPs meanwhile.
 */
export function transferTimes(
  cost: CostModel,
  op: TransferOp,
  bytes: number,
  t0: number,
  sameNode: boolean,
  extraUs = 0,
  ports: LinkPorts = IDLE_PORTS,
): TransferTimes {
  const o = cost.overheadUs;
  const L = latencyUs(cost, sameNode);
  const wire = bytes * gapPerByteUs(cost, sameNode);
  const posted = t0 + o;
  // A read's data leaves the responder once the request has reached it.
  const start = ports.transmit(op === 'read' ? posted + L : posted, wire);
  // The receiving port takes the data for n·G, from its first byte's arrival at the earliest.
  const landed = ports.receive(start + L, wire) + wire;
  if (op === 'read') return { posted, start, arrive: start + extraUs, complete: landed + extraUs };
  const arrive = landed + extraUs;
  return { posted, start, arrive, complete: arrive + L };
}

/**
 * A parked send (no receive was posted when it arrived) is delivered when the receive is
 * posted at `recvPostedAt`: the sender's retry comes one RNR timer later, unless the receive was
 * already there in virtual time.
 */
export function rnrDeliveryTime(cost: CostModel, arrive: number, recvPostedAt: number): number {
  return recvPostedAt <= arrive ? arrive : recvPostedAt + cost.rnrTimerUs;
}

export type BackendKind = AdapterKind;

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
