import { Status } from './constants.js';
import { InvalidArgument } from './errors.js';
import type { QueuePair } from './queue-pair.js';

/**
 * When the link a QP's packets cross is down, as an RC transport sees it: a packet sent into a
 * down link is lost and resent when the ack timer fires (every `timeoutUs`, at most `retryCount`
 * times, as ibv_modify_qp's timeout and retry_cnt). A window shorter than the retries delays the
 * operation until the first retransmission after the link is back; a longer one exhausts them and
 * the operation completes RETRY_EXCEEDED (the QP then enters the error state).
 */
export interface RetryBudget {
  /** Local ack timeout, µs (verbs timeout 14: 4.096 µs × 2^14). */
  timeoutUs: number;
  /** Retransmissions before giving up (verbs retry_cnt, 0..7). */
  retryCount: number;
}

export const DEFAULT_RETRY: RetryBudget = { timeoutUs: 4.096 * 2 ** 14, retryCount: 7 };

export function checkRetryBudget(b: RetryBudget, what: string): RetryBudget {
  if (!(Number.isFinite(b.timeoutUs) && b.timeoutUs > 0)) throw new InvalidArgument(`${what}: retryTimeoutUs must be > 0, got ${b.timeoutUs}`);
  if (!Number.isInteger(b.retryCount) || b.retryCount < 0 || b.retryCount > 7) {
    throw new InvalidArgument(`${what}: retryCount must be 0..7 (verbs retry_cnt), got ${b.retryCount}`);
  }
  return b;
}

/** The windows [start, end) of virtual time in which the link is down, and the QP's retry budget. */
export class LinkSchedule {
  private readonly windows: { start: number; end: number }[] = [];

  constructor(private readonly budget: RetryBudget) {}

  add(start: number, end: number): void {
    if (!(Number.isFinite(start) && Number.isFinite(end) && start >= 0 && end > start)) {
      throw new InvalidArgument(`linkDown: the window must be 0 <= start < end (virtual µs), got [${start}, ${end})`);
    }
    this.windows.push({ start, end });
    this.windows.sort((a, b) => a.start - b.start);
  }

  get empty(): boolean {
    return this.windows.length === 0;
  }

  /**
   * A packet first sent at `t`: when it really leaves (t itself if the link is up), or, if every
   * retransmission fell in a down window, when the sender gives up.
   */
  departure(t: number): { leaves: number } | { gaveUpAt: number } {
    const { timeoutUs, retryCount } = this.budget;
    for (let k = 0; k <= retryCount; k++) {
      const at = t + k * timeoutUs;
      if (!this.down(at)) return { leaves: at };
    }
    return { gaveUpAt: t + (retryCount + 1) * timeoutUs };
  }

  private down(t: number): boolean {
    return this.windows.some((w) => t >= w.start && t < w.end);
  }
}

/**
 * The link's verdict on an operation of `qp` posted at t0: when its first packet leaves, or
 * undefined once it gave up (the operation then completed RETRY_EXCEEDED and the QP is in error).
 */
export function departure(qp: QueuePair, link: LinkSchedule, opcode: number, wrId: number, t0: number): number | undefined {
  if (link.empty) return t0;
  const d = link.departure(t0);
  if ('leaves' in d) return d.leaves;
  qp.complete(opcode, wrId, Status.RETRY_EXCEEDED, 0, d.gaveUpAt, true, `the link was down for every retransmission from ${t0.toFixed(1)} µs on`, true);
  return undefined;
}

/**
 * A post to a peer behind the network wire: true when the link gave up on it (it completed
 * RETRY_EXCEEDED after its post's overhead, and nothing leaves the node). A shorter window does
 * not delay the frame across processes (see README, "Link down").
 */
export function remoteGaveUp(qp: QueuePair, link: LinkSchedule, opcode: number, wrId: number): boolean {
  if (link.empty) return false;
  const clock = qp.pd.clock;
  const t0 = clock.now;
  if ('leaves' in link.departure(t0)) return false;
  clock.advanceTo(t0 + qp.pd.adapter.cost.overheadUs);
  departure(qp, link, opcode, wrId, t0);
  return true;
}
