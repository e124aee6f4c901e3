import { ControlBlock, RankState } from './control-block.js';

/**
 * Declares a global deadlock when, for `windowMs` of wall time, every rank that has not finished is
 * BLOCKED and the control block's fingerprint (the activity counter and every rank's progress epoch)
 * has not changed. Ranks that finished count as "will never send again", so a receive from a rank
 * that is gone is a deadlock too. Sampling is coarse on purpose: a real deadlock lasts forever, and
 * a false one would need every rank asleep with no message moving for the whole window.
 */
export class DeadlockDetector {
  private timer: NodeJS.Timeout | undefined;
  private since = 0;
  private last = 0;

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
    let blocked = 0;
    let live = 0;
    for (let r = 0; r < this.ctrl.ranks; r++) {
      const s = this.ctrl.state(r);
      if (s === RankState.FINISHED || s === RankState.FAILED) continue;
      live++;
      if (s === RankState.BLOCKED) blocked++;
    }
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
