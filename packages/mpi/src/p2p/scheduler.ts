import { flushDoorbells } from '@tsmpi/fabric';
import { TimingMode, type Horizon, type TimingModeValue } from '../timing/horizon.js';
import { Timeline } from '../timing/timeline.js';

/**
 * One rank's side of the conservative synchronisation (see timing/horizon.ts): what it has still
 * to do, in virtual-time order, and when it may do it. Two rules make a run's virtual time
 * independent of thread timing:
 *   - an action on a resource other ranks share (a post that reserves a port) runs at its virtual
 *     time t only once no rank can still act before t; until then it waits in the timeline;
 *   - events (an arrival, a completed read) run in (time, origin, order) order, each once no rank
 *     can still send an earlier one, and a program action at clock t first runs every event due
 *     by t. So what a rank has seen at each of its calls is the same in every run.
 * Without a horizon (`--timing fast`) everything runs at once, in the order threads get there.
 */
export class Scheduler {
  private readonly timeline = new Timeline();
  private nextOrder = 0;
  private mode: TimingModeValue = TimingMode.RUNNING;
  /** The program clock as last published: the earliest a program action of this rank can come. */
  private mark = 0;
  /** Inside an item: a post it makes joins the timeline behind it rather than jumping ahead. */
  private running = false;

  constructor(
    private readonly rank: number,
    private readonly horizon: Horizon | undefined,
    /** Work this rank holds outside the timeline (control envelopes waiting for a send slot): its earliest time. */
    private readonly heldElsewhere: () => number,
    /**
     * The earliest event still in this rank's completion queue (its watermark): nothing of this
     * rank's may run at or after it before it is drained, or a late poll would reorder the rank.
     */
    private readonly undrained: () => number = () => Infinity,
    /**
     * The least virtual time between another rank's action and any event it makes for this one
     * (overhead + the shortest wire latency): events may run this far ahead of the slowest bound;
     * posts that reserve ports, and program actions, may not.
     */
    private readonly lookahead = 0,
  ) {}

  /** Exact virtual time (a horizon to synchronise with), or `--timing fast`. */
  get exact(): boolean {
    return this.horizon !== undefined;
  }

  /** An order number for an item of this rank's own: taken in program or event order, so the same in every run. */
  takeOrder(): number {
    return this.nextOrder++;
  }

  /**
   * Runs `act` (a post at virtual time `t`) now when nothing of this rank is due before it and no
   * rank can still act before it; otherwise it waits in the timeline for its turn.
   */
  at(t: number, act: () => void, order = this.nextOrder++): void {
    const h = this.horizon;
    // the others' bounds before this rank's own queue (see settled)
    if (h === undefined || (!this.running && this.timeline.nextTime > t && h.safe(this.rank, t) && this.undrained() > t)) {
      act();
      h?.lower(t);
      return;
    }
    this.timeline.push({ time: t, origin: this.rank, order, post: true, run: act });
  }

  /** An event for the timeline: from `origin` (a world rank), its `order` from that origin. */
  schedule(time: number, origin: number, order: number, run: () => void): void {
    if (this.horizon === undefined) {
      run();
      return;
    }
    this.timeline.push({ time, origin, order, run });
  }

  /** The earliest thing this rank still has to do (Infinity: nothing). */
  get pendingTime(): number {
    return Math.min(this.timeline.nextTime, this.heldElsewhere());
  }

  /** Items waiting (deferred posts and events). */
  get pending(): number {
    return this.timeline.size;
  }

  /**
   * Tell the others what this rank can still do (nothing, if that is what it told them last). A
   * publication that moved the row also wakes the owners of the completions this rank's sends
   * pushed (`wake` false: not yet; see TimedWaits.act).
   */
  publish(wake = true): void {
    const h = this.horizon;
    if (h === undefined) return;
    const pending = this.pendingTime;
    // An unchanged row changes no bound, so it needs no publication: a rank's calls republish the
    // same row often (a receive right after a send), and each publication is shared-memory traffic.
    if (this.mode === this.shownMode && this.mark === this.shownMark && pending === this.shownPending) return;
    this.shownMode = this.mode;
    this.shownMark = this.mark;
    this.shownPending = pending;
    h.publish(this.rank, this.mode, this.mark, pending);
    if (wake) flushDoorbells();
  }

  // The row as last published (the launcher's initial row: RUNNING at 0, nothing pending).
  private shownMode: TimingModeValue = TimingMode.RUNNING;
  private shownMark = 0;
  private shownPending = Infinity;

  /**
   * The post running now has fixed everything it decides in virtual time (ports reserved, its
   * completion pushed: the completion queue's watermark now covers that) and only moves bytes from
   * here on: publish at once what the rank can still do, so a rank held back by this post goes on
   * while the bytes move. Only inside an item (a post deferred to its turn), where what runs next is
   * the timeline's next item, and only when nothing else acts after an item (the caller's check:
   * a nonblocking collective's schedule may post from afterEach at the item's time).
   */
  bytesOnly(): void {
    if (this.running) this.publish(false);
  }

  /** This rank's bound rose outside its row (its CQ's watermark): wake the ranks held back by it. */
  announce(): void {
    if (this.horizon === undefined) return;
    this.horizon.announce(this.rank);
    flushDoorbells();
  }

  /** The program acts at `clock` (RUNNING), waits for an event (BLOCKED), or is gone (FINISHED). */
  enter(mode: TimingModeValue, clock: number, wake = true): void {
    this.mode = mode;
    this.mark = clock;
    this.publish(wake);
  }

  /** The program clock as last published: never lowered (a bound once given is kept). */
  get clockMark(): number {
    return this.mark;
  }

  /** Running an item: what it posts joins the timeline; it never waits for the horizon itself. */
  get inItem(): boolean {
    return this.running;
  }

  get blocked(): boolean {
    return this.mode === TimingMode.BLOCKED;
  }

  /** No rank can act before `t` (ties by rank). */
  safe(t: number): boolean {
    return this.horizon === undefined || this.horizon.safe(this.rank, t);
  }

  /**
   * Runs the items due by `limit` in order, each once it is safe. Returns 'done' right after an
   * item makes `done()` true — without publishing, so the caller can say it resumes before its
   * bound rises past the clock it resumes at — 'ran' if it ran anything, else 'idle'.
   */
  advance(limit: number, done?: () => boolean, afterEach?: () => void): 'done' | 'ran' | 'idle' {
    let ran = false;
    for (let item = this.timeline.peek(); item !== undefined && item.time <= limit; item = this.timeline.peek()) {
      if (!(item.post ? this.safe(item.time) : this.safeForEvents(item.time)) || this.undrained() <= item.time) break;
      this.timeline.pop();
      this.running = true;
      try {
        item.run();
        this.horizon?.lower(item.time);
        afterEach?.();
      } finally {
        this.running = false;
      }
      ran = true;
      if (done?.()) return 'done';
      this.publish();
    }
    return ran ? 'ran' : 'idle';
  }

  /** Nothing due by `t` is left and no rank can act before `t`: a program action at `t` may go. */
  settled(t: number): boolean {
    // exact, not with lookahead: a program may read memory that other ranks' puts and atomics write
    // when their posts run, and which of those have run by its clock must not depend on the threads.
    // The others' bounds first, this rank's completion queue after: an event at or before t is pushed
    // by a rank acting before t, so before its bound passed t. Read the other way round, a peer could
    // push one (its reply) and block, bound Infinity, between the two reads: the call at t then ran
    // before an event due by t (a receive posted that one process, or another run, finds unexpected).
    return this.safe(t) && this.pendingTime > t && this.undrained() > t;
  }

  /** No event at or before `t` can still reach this rank (see Horizon.safeForEvents). */
  safeForEvents(t: number): boolean {
    return this.horizon === undefined || this.horizon.safeForEvents(this.rank, t, this.lookahead);
  }

  /** The rank is held back by another (an item or a program action waits for the horizon), not by an event. */
  heldBack(limit: number): boolean {
    // an empty timeline is not held back (its next time, Infinity, is "due" by an Infinity limit):
    // the rank waits for an event then, and must sleep on its doorbell, which the event rings
    const next = this.timeline.nextTime;
    return next !== Infinity && next <= limit;
  }

  /** The rank that holds this one back (the smallest bound among the others), for reports. */
  laggard(): number {
    return this.horizon?.laggard(this.rank).rank ?? -1;
  }

  /** The rank whose publications this one watches while held back (the one that held it back last). */
  private watched = -1;

  /** The rank to watch: the one that held this back at its last check (see Horizon.holdingBack). */
  private holder(): number {
    const h = this.horizon!;
    const q = h.holdingBack;
    return q >= 0 ? q : h.laggard(this.rank).rank;
  }

  /** What the watched rank has published so far: read before looking, then sleep(seen). */
  get epoch(): number {
    if (this.horizon === undefined) return 0;
    if (this.watched < 0) this.watched = this.holder();
    return this.watched < 0 ? 0 : this.horizon.epochOf(this.watched);
  }

  /**
   * Sleep until the rank that holds this one back publishes a higher bound. If that is no longer the
   * rank read before looking, the bounds moved meanwhile: return and look again (watching the new one).
   */
  sleep(seen: number, ms: number): void {
    const h = this.horizon;
    if (h === undefined) return;
    const q = this.holder();
    if (q !== this.watched) {
      this.watched = q;
      return;
    }
    if (q >= 0) h.sleepOn(q, seen, ms);
  }
}
