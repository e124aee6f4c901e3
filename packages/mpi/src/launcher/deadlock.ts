import { RankState, type ControlBlock } from './control-block.js';

/** How many looks each rank must take after the last movement: the second one began after it. */
const LOOKS_NEEDED = 2;

/** One sample of a set of ranks (one node's, or the job's) for the deadlock check. */
export interface RankSample {
  live: number;
  blocked: number;
  /** Moves whenever anything moves: ACTIVITY, every EPOCH, blocked ranks' bounds, and what the caller adds (the wire). */
  fingerprint: number;
  /**
   * Every live rank is blocked, nothing moved, and every live rank has looked for work at least
   * LOOKS_NEEDED times since the last movement, and found none.
   */
  settled: boolean;
  /** performance.now() when nothing last moved (the baseline). */
  stillSince: number;
}

/**
 * Decides from progress, not from wall time, whether a set of ranks is stuck. A sample reads the
 * fingerprint, then the ranks' states and looks, then the fingerprint again; a movement anywhere (a
 * rank handed data on, made progress, published a virtual-time bound; a frame left or arrived)
 * starts a new baseline. The set is settled once every live rank has, since that baseline, looked
 * at its work twice and found nothing: the second look began after the baseline, so it saw every
 * hand-off made before it, and any hand-off after it moved the fingerprint. A rank that was woken
 * but is not running (a loaded host: hundreds of threads on 2 cores) takes no look, so it is never
 * declared stuck however long it waits for a core.
 *
 * Blocked: BLOCKED, or POLLING with its poll count moving since the previous sample (a rank still
 * polling test() or iprobe() for nothing; one that stopped may be computing, so it counts as running).
 * Ranks that finished count as "will never send again", so a receive from a rank that is gone is a
 * deadlock too.
 */
export class RankWatch {
  private readonly lastPolls = new Map<number, number>();
  private readonly baseLooks = new Map<number, number>();
  private baseFingerprint: number | undefined;
  private baseTime = 0;

  constructor(
    private readonly ctrl: ControlBlock,
    private readonly ranks: readonly number[],
    private readonly moves: WatchedMoves = {},
  ) {}

  sample(): RankSample {
    const { ctrl } = this;
    const before = this.fingerprint();
    let live = 0;
    let blocked = 0;
    const looks = new Map<number, number>();
    let bounds = 0;
    for (const r of this.ranks) {
      const s = ctrl.state(r);
      if (s === RankState.FINISHED || s === RankState.FAILED) continue;
      live++;
      const polls = ctrl.polls(r);
      if (s === RankState.BLOCKED || (s === RankState.POLLING && polls !== this.lastPolls.get(r))) blocked++;
      // a poll advances the rank's clock, a wait does not: only a waiting rank's bound counts as movement
      if (s === RankState.BLOCKED && this.moves.boundOf) bounds = (bounds * 31 + hashNumber(this.moves.boundOf(r))) | 0;
      this.lastPolls.set(r, polls);
      looks.set(r, ctrl.looks(r));
    }
    const read = this.fingerprint();
    const after = (read * 31 + bounds) | 0;
    const still = before === read && after === this.baseFingerprint && live > 0 && blocked === live;
    let settled = still;
    if (still) {
      for (const [r, n] of looks) {
        const base = this.baseLooks.get(r);
        if (base === undefined || ((n - base) | 0) < LOOKS_NEEDED) settled = false;
      }
    } else {
      // A new baseline: its looks are read after its fingerprint (`before`), so a look counted from
      // here began after every movement the fingerprint shows.
      this.baseFingerprint = read === before ? after : undefined;
      this.baseTime = performance.now();
      this.baseLooks.clear();
      for (const [r, n] of looks) this.baseLooks.set(r, n);
    }
    return { live, blocked, fingerprint: after, settled, stillSince: this.baseTime };
  }

  private fingerprint(): number {
    return (this.ctrl.fingerprint() * 31 + (this.moves.extra?.() ?? 0)) | 0;
  }
}

/** What else moves besides the control block. */
export interface WatchedMoves {
  /**
   * Exact timing: rank r's published virtual-time bound. A waiting rank's bound rises only when
   * something reached it (a rank held back by it in virtual time may then move on).
   */
  boundOf?: (rank: number) => number;
  /** A counter of anything else that moves (the network wire's frames). */
  extra?: () => number;
}

const F64 = new Float64Array(1);
const I32 = new Int32Array(F64.buffer);

function hashNumber(x: number): number {
  F64[0] = x;
  return (I32[0]! * 31 + I32[1]!) | 0;
}

/**
 * Declares a global deadlock when the job's ranks are settled (RankWatch) and nothing has moved for
 * at least `windowMs` of wall time. The window only keeps the report from racing a job's normal
 * hand-offs; what proves the deadlock is that every rank looked and found nothing.
 */
export class DeadlockDetector {
  private timer: NodeJS.Timeout | undefined;
  private readonly watch: RankWatch;

  constructor(
    private readonly ctrl: ControlBlock,
    private readonly windowMs: number,
    private readonly onDeadlock: (waits: string[]) => void,
    moves?: WatchedMoves,
  ) {
    this.watch = new RankWatch(ctrl, Array.from({ length: ctrl.ranks }, (_, r) => r), moves);
  }

  start(): void {
    this.timer = setInterval(() => this.sample(), samplePeriod(this.windowMs));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private sample(): void {
    const s = this.watch.sample();
    if (s.settled && performance.now() - s.stillSince >= this.windowMs) {
      this.stop();
      const waits: string[] = [];
      for (let r = 0; r < this.ctrl.ranks; r++) waits.push(this.ctrl.describe(r));
      this.onDeadlock(waits);
    }
  }
}

/** Samples per window: coarse on purpose (a real deadlock lasts forever). */
export function samplePeriod(windowMs: number): number {
  return Math.max(20, Math.min(250, windowMs / 5));
}
