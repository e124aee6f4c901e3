// A queue pair's row in its adapter's shared QP table: claimed at creation, written once connected.
import { H_QP_CREATED, H_QP_HINT, Q_DOMAIN, Q_RECV_CQ, Q_REMOTE_DOMAIN, Q_REMOTE_NODE, Q_REMOTE_QPN, Q_RNR, Q_RQ, Q_SEND_CQ, Q_STATE, Q_ERROR, QP_STRIDE, QpState } from './shared/layout.js';
import type { AdapterState } from './shared/state.js';

/** What a queue-pair row is created with: its owner domain and the queues it completes into. */
export interface QueuePairTemplate {
  domainId: number;
  sendCq: number;
  recvCq: number;
  /** its own receive queue, or the SRQ it shares */
  rq: number;
  rnrRetry: number;
}

/** @internal claim and fill a row of `st`'s QP table (in state CREATED); returns its number. */
export function claimQueuePairRow(st: AdapterState, t: QueuePairTemplate): number {
  const qpNum = st.claimRow(st.qps, QP_STRIDE, st.limits.maxQueuePairs, QpState.CREATED, H_QP_HINT, 'queue-pair', 'maxQueuePairs');
  Atomics.add(st.header, H_QP_CREATED, 1);
  const row = qpNum * QP_STRIDE;
  st.qps[row + Q_DOMAIN] = t.domainId;
  st.qps[row + Q_SEND_CQ] = t.sendCq;
  st.qps[row + Q_RECV_CQ] = t.recvCq;
  st.qps[row + Q_RQ] = t.rq;
  st.qps[row + Q_RNR] = t.rnrRetry;
  return qpNum;
}

/** @internal record in row `qpNum` of `st` the peer it is connected to, and mark it CONNECTED (last, for readers). */
export function writeConnection(st: AdapterState, qpNum: number, remote: { nodeId: number; qpNum: number; domainId: number }): void {
  const row = qpNum * QP_STRIDE;
  st.qps[row + Q_REMOTE_NODE] = remote.nodeId;
  st.qps[row + Q_REMOTE_QPN] = remote.qpNum;
  st.qps[row + Q_REMOTE_DOMAIN] = remote.domainId;
  Atomics.store(st.qps, row + Q_ERROR, 0);
  Atomics.store(st.qps, row + Q_STATE, QpState.CONNECTED);
}
