import { RankState, type ControlBlock } from './control-block.js';

/**
 * One sample of which ranks are live and which of them can only be woken by another: BLOCKED ones,
 * and POLLING ones whose poll count moved since the previous sample (a rank still polling test()
 * or iprobe() for nothing; one that stopped may be computing, so it counts as running).
 */
export class BlockedRanks {
  private readonly lastPolls = new Map<number, number>();

  sample(ctrl: ControlBlock, ranks: Iterable<number>): { live: number; blocked: number } {
    let live = 0;
    let blocked = 0;
    for (const r of ranks) {
      const s = ctrl.state(r);
      if (s === RankState.FINISHED || s === RankState.FAILED) continue;
      live++;
      const polls = ctrl.polls(r);
      if (s === RankState.BLOCKED || (s === RankState.POLLING && polls !== this.lastPolls.get(r))) blocked++;
      this.lastPolls.set(r, polls);
    }
    return { live, blocked };
  }
}

/**
 * Declares a global deadlock when, for `windowMs` of wall time, every rank that has not finished is
 * BLOCKED or polling for nothing (BlockedRanks) and the control block's fingerprint (the activity
 * counter and every rank's progress epoch) has not changed. Ranks that finished count as "will never send again", so a receive from a rank
 * that is gone is a deadlock too. Sampling is coarse on purpose: a real deadlock lasts forever, and
 * a false one would need every rank asleep with no message moving for the whole window.
 */
export class DeadlockDetector {
  private timer: NodeJS.Timeout | undefined;
  private since = 0;
  private last = 0;
  private readonly ranks = new BlockedRanks();

  constructor(
    private readonly ctrl: ControlBlock,
    private readonly windowMs: number,
    private readonly onDeadlock: (waits: string[]) => void,
  ) {}

  start(): void {
    const period = Math.max(20, Math.min(250, this.windowMs / 5));
    this.timer = setInterval(() => this.sample(), period);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private sample(): void {
    const now = performance.now();
    const { live, blocked } = this.ranks.sample(this.ctrl, Array.from({ length: this.ctrl.ranks }, (_, r) => r));
    const fp = this.ctrl.fingerprint();
    if (live === 0 || blocked < live || fp !== this.last || this.since === 0) {
      this.last = fp;
      this.since = blocked === live && live > 0 ? now : 0;
      return;
    }
    if (now - this.since >= this.windowMs) {
      this.stop();
      const waits: string[] = [];
      for (let r = 0; r < this.ctrl.ranks; r++) waits.push(this.ctrl.describe(r));
      this.onDeadlock(waits);
    }
  }
}
