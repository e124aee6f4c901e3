/**
 * Exact timing across processes: the answers (COMPLETE, READ_DATA) a node's network thread makes
 * while it applies a peer's operations wait for the next PROMISE of this node's bounds.
 *
 * Why: applying a peer's SEND hands one of this node's ranks an event, which lowers that rank's
 * bound, but what this node last promised (a blocked rank: Infinity) does not know it yet. The peer's
 * initiator is covered meanwhile by its held completion (holdCompletion); its answer ends that hold.
 * Sent before the promise that shows the lowered bound, the answer let the initiator's node go past
 * the event's consequences (the rank's reply) on the strength of the stale promise: the initiator
 * posted the receive for that reply before the reply came, where one process takes the reply in first
 * (found as rank 1's matchedPosted 4 → 5 in procs-results.test.ts's allreduce; reproduced every run by
 * test/programs/cross-tie.ts under --procs). So each answer leaves after a promise whose bounds were
 * read after the answer was made: a channel's PROMISE never overtakes what it should have covered.
 */
export interface Answer {
  node: number;
  frame: Uint8Array | Uint8Array[];
  payload?: Uint8Array;
}

export class HeldAnswers {
  private held: Answer[] = [];

  hold(a: Answer): void {
    this.held.push(a);
  }

  /** The answers made so far: take them before reading the bounds to promise, send them after the promise. */
  take(): Answer[] {
    if (this.held.length === 0) return NONE;
    const out = this.held;
    this.held = [];
    return out;
  }

  get waiting(): boolean {
    return this.held.length > 0;
  }
}

const NONE: Answer[] = [];
