import { Opcode, Status, type StatusName } from './constants.js';
import { pushCompletion } from './queues/completion-queue.js';
import { drainPosted, takeParked } from './queues/receive-queue.js';
import { Q_RQ, Q_STATE, QP_STRIDE, QpState } from './shared/layout.js';
import type { AdapterState } from './shared/state.js';
import type { QueuePair } from './queue-pair.js';

/** Why a QP is in the error state: the status that put it there, and what happened, in words. */
export interface QpFailure {
  status: StatusName;
  cause: string;
}

export function qpFailure(status: StatusName, cause: string): QpFailure {
  return { status, cause };
}

/** Any thread: mark QP `qpNum` of `state` as in the error state (its peer now sees it gone). */
export function markError(state: AdapterState, qpNum: number): void {
  const row = qpNum * QP_STRIDE + Q_STATE;
  if (Atomics.load(state.qps, row) === QpState.CONNECTED) Atomics.store(state.qps, row, QpState.ERROR);
}

/**
 * The QP entered the error state (or is reset) at virtual time `time`: every work request it still
 * has outstanding completes with WR_FLUSH_ERROR, as verbs does — the receives on its own queue (an
 * SRQ's receives belong to the SRQ and stay), and its sends parked at a peer in this process for a
 * receive. Sends of its peer parked here for it complete RETRY_EXCEEDED at their sender. (A send parked at a node behind the network wire completes RETRY_EXCEEDED when that
 * node's receive queue gives it up.)
 */
export function flushOutstanding(qp: QueuePair, time: number): void {
  const st = qp.state;
  const flush = (cq: number, opcode: number, wrId: number): void =>
    pushCompletion(st, cq, { status: Status.WR_FLUSH_ERROR, opcode, byteLength: 0, wrId, qpNum: qp.qpNum, immData: -1, time });
  if (!qp.hasSrq) for (const r of drainPosted(st, qp.rqId)) flush(qp.recvCqId, Opcode.RECV, r.wrId);
  // the peer's sends waiting here for a receive will never be taken: their sender's transport gives up
  for (const p of takeParked(st, qp.rqId, (p) => p.dstQpn === qp.qpNum)) qp.pd.failParked(p);
  const peer = qp.peer;
  if (peer?.kind !== 'local') return;
  const pst = peer.adapter.state;
  const me = qp.pd.adapter.nodeId;
  for (const p of takeParked(pst, pst.qps[peer.qpNum * QP_STRIDE + Q_RQ]!, (p) => p.srcNode === me && p.srcQpn === qp.qpNum)) {
    flush(qp.sendCqId, Opcode.SEND, p.wrId);
  }
}
