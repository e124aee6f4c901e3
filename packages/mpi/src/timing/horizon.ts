/**
 * The job's virtual-time horizon: conservative synchronisation between ranks, as parallel
 * discrete-event simulators (SST, ROSS) keep causality with a lower bound on the timestamp of any
 * future event (LBTS). Ranks share memory, so instead of Chandy–Misra–Bryant null messages every
 * rank publishes its own bound in one SharedArrayBuffer and reads everybody else's.
 *
 *   rank r  Int32 [SEQ, MODE, CQ, EPOCH, WAITERS]      Float64 [CLOCK, PENDING]
 *
 * A rank's bound — no action of it (a port reservation, a match, a cache operation, a post) will
 * ever happen at an earlier virtual time — is
 *
 *   RUNNING    min(CLOCK, PENDING, watermark)   the program may act at its clock
 *   BLOCKED    min(PENDING, watermark)          it acts again only on an event: one it holds
 *                                               (PENDING), one in its completion queue (the
 *                                               watermark), or one a rank not yet at that time
 *                                               will send (covered by that rank's own bound)
 *   FINISHED   Infinity                         it never acts again (what still reaches it is dropped)
 *
 * and rank r may act at time t only when every other rank q has (bound_q, q) > (t, r): ties go by
 * rank. The smallest (bound, rank) is therefore always free to act, so the job cannot stall on it.
 *
 * Who writes what: a rank writes only its own row, under its sequence counter (a seqlock: odd while
 * writing), so a reader takes CLOCK, MODE and PENDING as one snapshot. The watermark belongs to the
 * rank's completion queue (@tsmpi/fabric): producers lower it, the owner raises it only after it has
 * moved the completions into PENDING, so every event is covered at every moment by one or the other.
 * A reader therefore reads the watermark first, then the row.
 *
 *   owner (drain)                           reader
 *   O1 poll completions into its timeline   R1 w = watermark(r)
 *   O2 publish PENDING (seqlock)            R2 snapshot row r (seqlock)
 *   O3 cq.retire(): watermark raised        bound = min(w, row)
 * R1 after O3 ⇒ R2 after O2 (O2's seqlock store precedes O3's lock), so the raise is never seen
 * without the PENDING that replaced it.
 *
 * Why a rank may cache the smallest bound of the others: another rank's bound falls only when an
 * event reaches it, and an event comes from a rank acting no earlier than the event's time. A third
 * rank acted only because every bound was above that time, so the minimum the cache holds stays
 * valid — except for the events this rank sends itself: after acting at t it keeps no cache above t
 * (lower()).
 */
export const TimingMode = { RUNNING: 0, BLOCKED: 1, FINISHED: 2 } as const;
export type TimingModeValue = (typeof TimingMode)[keyof typeof TimingMode];

// Header: NODE_EPOCH counts every publication of this process's ranks (the network thread of a node
// process sleeps on it to promise their bounds to the other nodes); NODE_WAITERS says whether it
// sleeps now, NODE_WATCHED whether such a thread exists at all (a job in one process has none: its
// ranks then skip the counter, one contended atomic add per publication that nobody would read).
// MIRROR_FALLS counts the times a mirror's bound fell (see mirror()): a cached horizon older than the
// last fall may promise too much.
const NODE_EPOCH = 0, NODE_WAITERS = 1, NODE_WATCHED = 2, MIRROR_FALLS = 3;
const I_HEADER = 4;
const I_ROW = 5;
// EPOCH counts the row's publications; a rank held back by this one sleeps on it (WAITERS says how
// many do, so a publication nobody waits for costs no futex call).
const SEQ = 0, MODE = 1, CQ = 2, EPOCH = 3, WAITERS = 4;
const F_ROW = 2;
const CLOCK = 0, PENDING = 1;
/** A held-back rank's sleep slice grows to at most this while nothing moves (see sleepOn). */
const SLICE_CAP_MS = 16;
const SLICE_DOUBLINGS = 5;

export interface HorizonHandle {
  kind: 'tsmpi.horizon';
  ints: SharedArrayBuffer;
  floats: SharedArrayBuffer;
  ranks: number;
}

/** How rank `rank`'s completion queue `cqId` is read for its watermark (from any thread). */
export type WatermarkReader = (rank: number, cqId: number) => number;

// Node 20 has Atomics.waitAsync; the project's lib (ES2023) does not declare it yet.
type WaitAsyncResult = { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): WaitAsyncResult }).waitAsync;

export class Horizon {
  readonly handle: HorizonHandle;
  readonly ranks: number;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly watermark: WatermarkReader;
  /** The smallest (bound, rank) among the others at the last scan: every t below it is safe. */
  private cachedBound = -Infinity;
  private cachedRank = -1;
  /** MIRROR_FALLS when the cache was taken: a mirror that fell since invalidates it. */
  private cachedFalls = 0;
  /** See holdingBack. */
  private blocker = -1;

  private constructor(handle: HorizonHandle, watermark: WatermarkReader) {
    this.handle = handle;
    this.ranks = handle.ranks;
    this.i32 = new Int32Array(handle.ints);
    this.f64 = new Float64Array(handle.floats);
    this.watermark = watermark;
  }

  /**
   * The launcher's: every rank starts RUNNING at virtual time 0. In a node process, the rows of the
   * ranks that live in other processes are mirrors: this process's network thread writes them (mirror()) from
   * what those ranks' node promises (see @tsmpi/fabric's net/sequencer.ts).
   */
  static create(ranks: number): HorizonHandle {
    const ints = new SharedArrayBuffer((I_HEADER + ranks * I_ROW) * 4);
    const floats = new SharedArrayBuffer(ranks * F_ROW * 8);
    const i32 = new Int32Array(ints);
    const f64 = new Float64Array(floats);
    for (let r = 0; r < ranks; r++) {
      i32[I_HEADER + r * I_ROW + CQ] = -1;
      f64[r * F_ROW + PENDING] = Infinity;
    }
    return { kind: 'tsmpi.horizon', ints, floats, ranks };
  }

  static attach(handle: HorizonHandle, watermark: WatermarkReader): Horizon {
    return new Horizon(handle, watermark);
  }

  // ───────────────────────────── the owner's side ─────────────────────────────

  /** Rank `r` receives its completions on CQ `cqId`: others read that CQ's watermark from now on. */
  setCompletionQueue(r: number, cqId: number): void {
    Atomics.store(this.i32, I_HEADER + r * I_ROW + CQ, cqId);
  }

  /**
   * Publish rank `r`'s row. Callers order their publications so a bound never rises past an action
   * still to come: a rank that resumes publishes RUNNING with its clock before it lets PENDING rise.
   */
  publish(r: number, mode: TimingModeValue, clock: number, pending: number): void {
    const i = I_HEADER + r * I_ROW;
    const f = r * F_ROW;
    // only the owner writes its row, so it reads its last publication without the seqlock
    const before = ownBound(this.i32[i + MODE]!, this.f64[f + CLOCK]!, this.f64[f + PENDING]!);
    Atomics.add(this.i32, i + SEQ, 1);
    this.f64[f + CLOCK] = clock;
    this.f64[f + PENDING] = pending;
    this.i32[i + MODE] = mode;
    Atomics.add(this.i32, i + SEQ, 1);
    // A waiter is held back by this row only while its bound is low: a publication that does not
    // raise it frees nobody, so it neither moves EPOCH nor wakes anyone (most of a rank's
    // publications, one per timeline item, leave its bound where it was).
    if (ownBound(mode, clock, pending) > before) {
      Atomics.add(this.i32, i + EPOCH, 1);
      if (Atomics.load(this.i32, i + WAITERS) !== 0) Atomics.notify(this.i32, i + EPOCH);
    }
    this.moved();
  }

  /** Rank `r`'s bound rose outside its row (its completion queue's watermark): wake its waiters. */
  announce(r: number): void {
    const i = I_HEADER + r * I_ROW;
    Atomics.add(this.i32, i + EPOCH, 1);
    if (Atomics.load(this.i32, i + WAITERS) !== 0) Atomics.notify(this.i32, i + EPOCH);
    this.moved();
  }

  private moved(): void {
    if (Atomics.load(this.i32, NODE_WATCHED) === 0) return;
    Atomics.add(this.i32, NODE_EPOCH, 1);
    if (Atomics.load(this.i32, NODE_WAITERS) !== 0) Atomics.notify(this.i32, NODE_EPOCH);
  }

  // ───────────────────────────── the network thread's side (node processes) ─────────────────────────────

  /** Remote rank `q` will not act before `bound` (its node's promise, its frames still held here). */
  mirror(q: number, bound: number): void {
    const i = I_HEADER + q * I_ROW;
    const f = q * F_ROW;
    // A mirror falls where one process's row never would: its node promised a blocked rank's bound
    // (Infinity), then applied an operation of this node's that handed the rank an event. Ranks here
    // that cached the higher bound must look again (counted before the row changes, so a rank that
    // still sees the old count read the row before it fell).
    if (bound < this.f64[f + CLOCK]!) Atomics.add(this.i32, MIRROR_FALLS, 1);
    Atomics.add(this.i32, i + SEQ, 1);
    this.f64[f + CLOCK] = bound;
    this.f64[f + PENDING] = Infinity;
    this.i32[i + MODE] = bound === Infinity ? TimingMode.FINISHED : TimingMode.RUNNING;
    Atomics.add(this.i32, i + SEQ, 1);
    Atomics.add(this.i32, i + EPOCH, 1);
    if (Atomics.load(this.i32, i + WAITERS) !== 0) Atomics.notify(this.i32, i + EPOCH);
  }

  /**
   * A network thread will watch nodeEpoch from now on: ranks count their publications from here.
   * Called before the thread first reads nodeEpoch, so no publication it must see goes uncounted.
   */
  watchNode(): void {
    Atomics.store(this.i32, NODE_WATCHED, 1);
  }

  /** Moves whenever a rank of this process publishes (once watchNode() was called). */
  get nodeEpoch(): number {
    return Atomics.load(this.i32, NODE_EPOCH);
  }

  /** Settles once nodeEpoch differs from `seen` (undefined: it already does). For an event loop (Atomics.waitAsync). */
  movedAsync(seen: number): Promise<unknown> | undefined {
    Atomics.store(this.i32, NODE_WAITERS, 1);
    const w = waitAsync(this.i32, NODE_EPOCH, seen);
    if (!w.async) {
      Atomics.store(this.i32, NODE_WAITERS, 0);
      return undefined;
    }
    return w.value.then(() => Atomics.store(this.i32, NODE_WAITERS, 0));
  }

  /** safe() without the cache (the network thread asks for many origins): every rank but `r` is past (t, r). */
  clear(r: number, t: number): boolean {
    for (let q = 0; q < this.ranks; q++) {
      if (q === r) continue;
      const b = this.bound(q);
      if (b < t || (b === t && q < r)) return false;
    }
    return true;
  }

  // ───────────────────────────── everybody's side ─────────────────────────────

  /** Rank `q`'s bound: no action of it will happen before this virtual time. */
  bound(q: number): number {
    const i = I_HEADER + q * I_ROW;
    const cq = Atomics.load(this.i32, i + CQ);
    const w = cq < 0 ? Infinity : this.watermark(q, cq);
    const f = q * F_ROW;
    for (;;) {
      const s1 = Atomics.load(this.i32, i + SEQ);
      if ((s1 & 1) !== 0) continue;
      const mode = this.i32[i + MODE]!;
      const clock = this.f64[f + CLOCK]!;
      const pending = this.f64[f + PENDING]!;
      if (Atomics.load(this.i32, i + SEQ) !== s1) continue;
      // a finished rank never acts again: what is left in its completion queue holds nobody back
      if (mode === TimingMode.FINISHED) return Infinity;
      return Math.min(ownBound(mode, clock, pending), w);
    }
  }

  /** May rank `r` act at virtual time `t`? Every other rank is past it, or at it with a larger rank. */
  safe(r: number, t: number): boolean {
    if ((t < this.cachedBound || (t === this.cachedBound && r < this.cachedRank)) && this.cacheHolds()) {
      return true;
    }
    // the rank that held this one back last time most often still does: one row, not np
    const q = this.blocker;
    if (q >= 0 && q !== r) {
      const b = this.bound(q);
      if (b < t || (b === t && q < r)) return false;
    }
    this.rescan(r, t, r);
    return t < this.cachedBound || (t === this.cachedBound && r < this.cachedRank);
  }

  /**
   * May rank `r` handle an event at virtual time `t` (or let its program act at `t`)? Only events
   * reach a rank from others, and every event comes at least `lookahead` after the action that
   * made it, so it is enough that every other rank's bound is above t − lookahead (strictly: an
   * event at exactly t could otherwise still come, from a rank that sorts first).
   */
  safeForEvents(r: number, t: number, lookahead: number): boolean {
    const s = t - lookahead;
    if (s < this.cachedBound && this.cacheHolds()) {
      return true;
    }
    const q = this.blocker;
    if (q >= 0 && q !== r && this.bound(q) <= s) return false;
    this.rescan(r, s, this.ranks);
    return s < this.cachedBound;
  }

  /**
   * The rank that held rank `r` back at its last check (-1: none did): of the ranks below the time
   * it asked for, the one nearest to it. Ranks at one virtual time act in rank order, so sleeping on
   * the smallest bound instead woke a waiter once per rank ahead of it (O(np²) wake-ups per round
   * of a collective); the nearest is, most often, the last to move past.
   */
  get holdingBack(): number {
    return this.blocker;
  }

  /**
   * The smallest (bound, rank) among the others, into the cache; and the rank nearest below (t, tieRank)
   * — a rank q holds r back when (bound_q, q) < (t, tieRank) — into `blocker`.
   */
  private rescan(r: number, t: number, tieRank: number): void {
    this.cachedFalls = Atomics.load(this.i32, MIRROR_FALLS);
    let minBound = Infinity;
    let minRank = this.ranks;
    let blocker = -1;
    let blockerBound = -Infinity;
    for (let q = 0; q < this.ranks; q++) {
      if (q === r) continue;
      const b = this.bound(q);
      if (b < minBound || (b === minBound && q < minRank)) {
        minBound = b;
        minRank = q;
      }
      if ((b < t || (b === t && q < tieRank)) && b >= blockerBound) {
        blockerBound = b;
        blocker = q;
      }
    }
    this.cachedBound = minBound;
    this.cachedRank = minRank;
    this.blocker = blocker;
  }

  /** No mirror fell since the cache was taken (in one process none ever does: one atomic load). */
  private cacheHolds(): boolean {
    return Atomics.load(this.i32, MIRROR_FALLS) === this.cachedFalls;
  }

  /**
   * This rank acted at `t` (a post that may hand another rank an event at t or later): that rank may
   * now act from t on, so the cached horizon must not promise more than t.
   */
  lower(t: number): void {
    if (t < this.cachedBound || (t === this.cachedBound && this.cachedRank >= 0)) {
      this.cachedBound = t;
      this.cachedRank = -1;
    }
  }

  /** Who holds rank `r` back at time `t` (for reports): the rank with the smallest bound, and that bound. */
  laggard(r: number): { rank: number; bound: number } {
    let rank = -1;
    let bound = Infinity;
    for (let q = 0; q < this.ranks; q++) {
      if (q === r) continue;
      const b = this.bound(q);
      if (b < bound) {
        bound = b;
        rank = q;
      }
    }
    return { rank, bound };
  }

  /** A counter that moves whenever rank `q` publishes; read it before checking, then sleepOn(q, seen). */
  epochOf(q: number): number {
    return Atomics.load(this.i32, I_HEADER + q * I_ROW + EPOCH);
  }

  /**
   * Sleep until rank `q` raises its bound (or the slice passes): only the rank that holds a waiter
   * back can free it, so a publication wakes its own waiters, not every rank of the job. The futex
   * pattern of the completion queue (announce, compare-and-sleep, withdraw). The slice is a safety
   * net, not the hand-off: it doubles, up to SLICE_CAP_MS, while sleeps on one unchanged row time
   * out. Measured at 32 ranks (barriers, exact): 88% of 1 ms slices timed out, and 99.7% of those
   * found nothing to do — with hundreds of ranks such wake-ups alone would fill the cores.
   */
  sleepOn(q: number, seen: number, ms: number): void {
    const i = I_HEADER + q * I_ROW;
    this.streak = q === this.sleptOn && seen === this.sleptSeen ? Math.min(this.streak + 1, SLICE_DOUBLINGS) : 0;
    Atomics.add(this.i32, i + WAITERS, 1);
    this.lastSliceMs = Math.min(SLICE_CAP_MS, ms * 2 ** this.streak);
    const woke = Atomics.wait(this.i32, i + EPOCH, seen, this.lastSliceMs);
    Atomics.sub(this.i32, i + WAITERS, 1);
    this.sleptOn = woke === 'timed-out' ? q : -1;
    this.sleptSeen = seen;
  }

  /** The row and epoch of the last sleep if it timed out (-1: it was woken), and how often in a row. */
  private sleptOn = -1;
  private sleptSeen = 0;
  private streak = 0;
  /** The longest the last sleepOn() could sleep (ms). */
  lastSliceMs = 0;
}

/** A row's bound without its completion queue's watermark. */
function ownBound(mode: number, clock: number, pending: number): number {
  if (mode === TimingMode.FINISHED) return Infinity;
  return mode === TimingMode.BLOCKED ? pending : Math.min(clock, pending);
}
