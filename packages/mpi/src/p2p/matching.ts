import { ANY_SOURCE, ANY_TAG } from '../constants.js';

/** The part of a message or a receive that matching looks at. Ranks are ranks of the communicator. */
export interface MatchKey {
  context: number;
  source: number;
  tag: number;
}

/**
 * MPI matching: a posted-receive queue and an unexpected-message queue per context, each a FIFO
 * searched front to back.
 *
 *   arrival  ──► search posted (oldest first) ──found──► deliver into that receive
 *                      │ none
 *                      └─► append to unexpected
 *   receive  ──► search unexpected (oldest arrival first) ──found──► take it
 *                      │ none
 *                      └─► append to posted
 *
 * Why plain arrays and not an index keyed by (source, tag): a wildcard receive must take the
 * *earliest* arrival among all sources, and a wildcard posted receive must be matched before a
 * later specific one; only an in-order scan keeps both rules without a global sequence merge.
 * Non-overtaking per (source, tag, context) follows because arrivals from one source enter the
 * unexpected queue in their send order (the engine reorders by sequence number before matching).
 * Queues stay short in practice (MPICH and Open MPI scan linked lists the same way).
 */
export class MatchQueues<P extends MatchKey, U extends MatchKey> {
  private readonly posted = new Map<number, P[]>();
  private readonly unexpected = new Map<number, U[]>();

  /** An arrival: returns the oldest posted receive it matches (removed), or queues it as unexpected. */
  arrive(msg: U): P | undefined {
    const q = this.posted.get(msg.context);
    if (q) {
      for (let i = 0; i < q.length; i++) {
        const r = q[i]!;
        if (matches(r, msg)) {
          q.splice(i, 1);
          return r;
        }
      }
    }
    push(this.unexpected, msg);
    return undefined;
  }

  /** A new receive: returns the earliest unexpected message it matches (removed), or posts it. */
  post(recv: P): U | undefined {
    const m = this.takeUnexpected(recv);
    if (m) return m;
    push(this.posted, recv);
    return undefined;
  }

  /** probe(): the earliest unexpected message matching `key`, left in place. */
  peek(key: MatchKey): U | undefined {
    const q = this.unexpected.get(key.context);
    if (!q) return undefined;
    for (const m of q) if (matches(key, m)) return m;
    return undefined;
  }

  /** mprobe(): like peek() but removes the message, so no other receive can take it. */
  takeUnexpected(key: MatchKey): U | undefined {
    const q = this.unexpected.get(key.context);
    if (!q) return undefined;
    for (let i = 0; i < q.length; i++) {
      const m = q[i]!;
      if (matches(key, m)) {
        q.splice(i, 1);
        return m;
      }
    }
    return undefined;
  }

  /** Withdraws a posted receive (cancel); false if it was already matched. */
  cancel(recv: P): boolean {
    const q = this.posted.get(recv.context);
    const i = q ? q.indexOf(recv) : -1;
    if (i < 0) return false;
    q!.splice(i, 1);
    return true;
  }

  get postedCount(): number {
    let n = 0;
    for (const q of this.posted.values()) n += q.length;
    return n;
  }

  get unexpectedCount(): number {
    let n = 0;
    for (const q of this.unexpected.values()) n += q.length;
    return n;
  }
}

/** Does a receive (or probe) key accept a message? Wildcards only on the receive side. */
export function matches(recv: MatchKey, msg: MatchKey): boolean {
  return (
    recv.context === msg.context &&
    (recv.source === ANY_SOURCE || recv.source === msg.source) &&
    (recv.tag === ANY_TAG || recv.tag === msg.tag)
  );
}

function push<T extends MatchKey>(m: Map<number, T[]>, item: T): void {
  const q = m.get(item.context);
  if (q) q.push(item);
  else m.set(item.context, [item]);
}
