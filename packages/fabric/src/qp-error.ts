import { Opcode, Status, statusName, type StatusName } from './constants.js';
import { pushCompletion } from './queues/completion-queue.js';
import { drainPosted, takeParked } from './queues/receive-queue.js';
import { ERROR_LINK_DOWN, Q_ERROR, Q_RQ, Q_STATE, QP_STRIDE, QpState } from './shared/layout.js';
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

/**
 * A completion with this status is fatal for its QP, as in verbs: every error but a flush (which
 * a QP already in error produces) moves the QP to the error state — an access or protection error,
 * a length error, an invalid request, the transport's retries running out.
 */
export function fatalStatus(status: number): boolean {
  return status !== Status.SUCCESS && status !== Status.WR_FLUSH_ERROR;
}

/**
 * Any thread: mark QP `qpNum` of `state` as in the error state (its peer now sees it gone), recording
 * the status that put it there (and whether the link did) for whoever reads the row: the QP's own
 * thread, which flushes what it still has outstanding at its next post, and its peer's error message.
 * The status is written before the state, so a reader that sees ERROR finds it.
 */
export function markError(state: AdapterState, qpNum: number, status: number, linkDown = false): void {
  const row = qpNum * QP_STRIDE;
  if (Atomics.load(state.qps, row + Q_STATE) !== QpState.CONNECTED) return;
  Atomics.compareExchange(state.qps, row + Q_ERROR, 0, status | (linkDown ? ERROR_LINK_DOWN : 0));
  Atomics.compareExchange(state.qps, row + Q_STATE, QpState.CONNECTED, QpState.ERROR);
}

/** A QP leaves the error state (reset): it no longer carries a cause. */
export function clearError(state: AdapterState, qpNum: number): void {
  Atomics.store(state.qps, qpNum * QP_STRIDE + Q_ERROR, 0);
}

/**
 * Why QP `qpNum` of `state` is in the error state, as its row says — for a QP another thread or node
 * failed (an error completion it delivered, a peer that gave up on it), whose own object holds no cause.
 */
export function rowFailure(state: AdapterState, qpNum: number): QpFailure {
  const code = Atomics.load(state.qps, qpNum * QP_STRIDE + Q_ERROR);
  const status = code & ~ERROR_LINK_DOWN;
  if ((code & ERROR_LINK_DOWN) !== 0) return qpFailure('RETRY_EXCEEDED', 'the link was down for every retransmission');
  if (status === 0 || status === Status.RETRY_EXCEEDED) return qpFailure('RETRY_EXCEEDED', 'its peer gave up on it');
  const name = statusName(status);
  return qpFailure(name.startsWith('UNKNOWN') ? 'RETRY_EXCEEDED' : name as StatusName, FATAL_CAUSE[name] ?? `an operation on it completed ${name}`);
}

/** What each fatal status means for the QP it stopped, in words. */
const FATAL_CAUSE: Partial<Record<string, string>> = {
  LOCAL_PROTECTION_ERROR: 'one of its operations named a local buffer its key does not cover',
  LOCAL_LENGTH_ERROR: 'a send was longer than the receive it landed in',
  REMOTE_ACCESS_ERROR: 'the peer refused a remote access: its key or range was not valid',
  REMOTE_INVALID_REQUEST: 'the peer refused a request it could not take',
  REMOTE_OPERATION_ERROR: 'the peer could not complete an operation',
};

/** The failure a fatal completion of `status` puts its QP in; `why` says what happened, when the caller knows. */
export function fatalFailure(status: number, why?: string): QpFailure {
  if (status === Status.RETRY_EXCEEDED) return qpFailure('RETRY_EXCEEDED', why ?? 'the transport\'s retries ran out');
  const name = statusName(status);
  return qpFailure(name as StatusName, why ?? FATAL_CAUSE[name] ?? `an operation on it completed ${name}`);
}

/** The link being down put QP `qpNum` of `state` in the error state (directly, or through the peer it lost). */
export function linkCaused(state: AdapterState, qpNum: number): boolean {
  return (Atomics.load(state.qps, qpNum * QP_STRIDE + Q_ERROR) & ERROR_LINK_DOWN) !== 0;
}

/** How a peer's QP in the error state reads in the message of the operation that found it so. */
export function peerErrorText(state: AdapterState, qpNum: number): string {
  const code = Atomics.load(state.qps, qpNum * QP_STRIDE + Q_ERROR);
  // moved there by its owner (toError: the cause is the owner's to tell) or not yet recorded
  if (code === 0 || code === Status.WR_FLUSH_ERROR) return 'is in the error state';
  return `is in the error state (${rowFailure(state, qpNum).cause})`;
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

/** A post to a QP in the error state: verbs accepts it and completes it with a flush error at once. */
export function flushPost(qp: QueuePair, opcode: number, wrId: number, cqId: number): void {
  const time = qp.pd.clock.now + qp.pd.adapter.cost.overheadUs;
  qp.pd.clock.advanceTo(time);
  pushCompletion(qp.state, cqId, { status: Status.WR_FLUSH_ERROR, opcode, byteLength: 0, wrId, qpNum: qp.qpNum, immData: -1, time });
}
