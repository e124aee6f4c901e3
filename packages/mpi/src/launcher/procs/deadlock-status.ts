import type { ControlMessage } from './control.js';

export type NodeStatus = Extract<ControlMessage, { t: 'status' }>;

/**
 * Node 0's view of the job-wide deadlock check across node processes. Each node settles its own
 * ranks (RankWatch, deadlock.ts); the job is deadlocked only when every node has said "settled"
 * in a status sent after the last movement anywhere, the nodes' fingerprints have not moved, and
 * the network wires' frame counts balance: every frame sent was received, so none is on its way to
 * a node whose process has not run yet.
 */
export class JobStatus {
  private readonly latest = new Map<number, NodeStatus>();
  /** Statuses per node since the baseline. */
  private readonly fresh = new Map<number, number>();
  private baseKey = '';
  private baseTime = 0;

  constructor(private readonly nodes: number) {}

  take(s: NodeStatus): void {
    this.latest.set(s.node, s);
    this.fresh.set(s.node, (this.fresh.get(s.node) ?? 0) + 1);
  }

  /**
   * True when the job has been stuck for `windowMs`; `lost`: nodes whose process is gone (their
   * failure ends the job on its own). Call after take() of this node's own status.
   */
  stuck(windowMs: number, lost: ReadonlySet<number>): boolean {
    const all = [...this.latest.values()];
    const complete = this.latest.size + lost.size >= this.nodes;
    const live = all.reduce((n, x) => n + x.live, 0);
    const balanced = all.reduce((n, x) => n + x.framesOut - x.framesIn, 0) === 0;
    const key = all.map((x) => `${x.node}:${x.fingerprint}:${x.framesOut}:${x.framesIn}`).sort().join(',');
    const settled = complete && live > 0 && balanced && all.every((x) => x.settled);
    if (!settled || key !== this.baseKey) {
      this.baseKey = settled ? key : '';
      this.baseTime = performance.now();
      for (const n of this.fresh.keys()) this.fresh.set(n, 0);
      return false;
    }
    // every node spoke again since the baseline, and nothing it said moved
    return all.every((x) => (this.fresh.get(x.node) ?? 0) >= 1) && performance.now() - this.baseTime >= windowMs;
  }

  waits(): string[] {
    return [...this.latest.values()].flatMap((x) => x.waits).sort((a, b) => a[0] - b[0]).map(([, w]) => w);
  }
}
