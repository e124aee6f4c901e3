import type { Adapter } from '../adapter.js';
import { Opcode, Status } from '../constants.js';
import { latencyUs } from '../cost/formulas.js';
import { pushCompletion, releaseCompletion } from '../queues/completion-queue.js';
import { Q_DOMAIN, Q_SEND_CQ, Q_STATE, QP_STRIDE, QpState } from '../shared/layout.js';
import { ATOMIC_CAS_FLAG, FrameType, Op } from './frames.js';
import { uncount } from './responder.js';

/** An operation shipped and not finished: what its initiator hears if the peer goes away. */
export interface InFlightOp {
  qpn: number;
  wrId: number;
  opcode: number;
  t0: number;
  length: number;
  /** Who posted it (Op.ORIGIN), and the CQ whose watermark it holds until its answer (holdCompletion). */
  origin: number;
  cq: number;
  held: boolean;
}

/**
 * The operations this node's ranks shipped to each peer, by sequence number, until their FINAL
 * answer: a peer that goes away completes them RETRY_EXCEEDED (never a hang), and every one
 * releases the hold its post put on its CQ's watermark exactly once.
 */
export class InFlight {
  private readonly byPeer = new Map<number, Map<number, InFlightOp>>();

  constructor(private readonly adapter: Adapter) {}

  /** The operation of an outbox record (`head`: the type byte, then the Op header). */
  describe(head: DataView, type: number): InFlightOp {
    const qpn = head.getUint32(Op.SRC_QPN, true);
    return { qpn, wrId: head.getFloat64(Op.WR_ID, true),
      opcode: type === FrameType.SEND ? Opcode.SEND : type === FrameType.WRITE ? Opcode.RDMA_WRITE
        : type === FrameType.READ ? Opcode.RDMA_READ : (head.getUint8(Op.FLAGS) & ATOMIC_CAS_FLAG) !== 0 ? Opcode.COMP_SWAP : Opcode.FETCH_ADD,
      t0: head.getFloat64(Op.T0, true), length: head.getUint32(Op.LENGTH, true), origin: head.getUint32(Op.ORIGIN, true),
      cq: this.adapter.state.qps[qpn * QP_STRIDE + Q_SEND_CQ]!, held: true };
  }

  add(peer: number, seq: number, op: InFlightOp): void {
    let m = this.byPeer.get(peer);
    if (m === undefined) this.byPeer.set(peer, (m = new Map()));
    m.set(seq, op);
  }

  get(peer: number, seq: number): InFlightOp | undefined {
    return this.byPeer.get(peer)?.get(seq);
  }

  /** An answer came: `final` forgets the operation; `released` (final, or parked at the receiver) ends its hold. */
  answered(peer: number, seq: number, final: boolean, released: boolean): void {
    const m = this.byPeer.get(peer);
    const op = m?.get(seq);
    if (op !== undefined && released) this.unhold(op);
    if (final) m?.delete(seq);
  }

  /** The peer is gone: everything waiting on it completes RETRY_EXCEEDED (verbs: the transport's retries ran out). */
  failPeer(peer: number): void {
    const m = this.byPeer.get(peer);
    if (m === undefined) return;
    this.byPeer.delete(peer);
    for (const op of m.values()) this.fail(op);
  }

  failAll(): void {
    for (const peer of [...this.byPeer.keys()]) this.failPeer(peer);
  }

  fail(op: InFlightOp): void {
    const st = this.adapter.state;
    const row = op.qpn * QP_STRIDE;
    if (Atomics.load(st.qps, row + Q_STATE) !== QpState.FREE) {
      const cost = this.adapter.cost;
      uncount(st.counters, st.qps[row + Q_DOMAIN]!, op.opcode, op.length);
      pushCompletion(st, st.qps[row + Q_SEND_CQ]!, { status: Status.RETRY_EXCEEDED, opcode: op.opcode, byteLength: 0, wrId: op.wrId,
        qpNum: op.qpn, immData: -1, time: op.t0 + cost.overheadUs + 2 * latencyUs(cost, false) });
    }
    this.unhold(op);
  }

  /** The operation's answer is in (and its completion pushed): its CQ's watermark need no longer cover it. */
  private unhold(op: InFlightOp): void {
    if (!op.held) return;
    op.held = false;
    releaseCompletion(this.adapter.state, op.cq);
  }
}
