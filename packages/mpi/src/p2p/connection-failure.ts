import { ConnectionFailed } from '../errors.js';
import type { CompletionPort, QueuePairsPort } from './ports.js';

/** verbs' ibv_wc_status values that mean the queue pair itself failed (RETRY_EXCEEDED, WR_FLUSH_ERROR). */
const RETRY_EXCEEDED = 12;
const WR_FLUSH_ERROR = 5;

/**
 * A completion that says the queue pair to a peer failed — its retries ran out, or it is in the error
 * state and flushed the request — as the typed error the rank fails with, naming the peer and why;
 * undefined for any other completion (an access error belongs to its one message).
 */
export function connectionFailure(
  rank: number, qps: QueuePairsPort, c: CompletionPort, faults?: { explain(cause: string, peer: number): string },
): ConnectionFailed | undefined {
  if (c.status !== RETRY_EXCEEDED && c.status !== WR_FLUSH_ERROR) return undefined;
  const peer = qps.peerOf(c.qpNum);
  const failure = peer >= 0 ? qps.opened(peer)?.error : undefined;
  const status = failure?.status ?? (c.status === RETRY_EXCEEDED ? 'RETRY_EXCEEDED' : 'WR_FLUSH_ERROR');
  const cause = failure?.cause ?? 'the adapter gave up on the queue pair';
  return new ConnectionFailed(rank, peer, status, faults ? faults.explain(cause, peer) : cause);
}
