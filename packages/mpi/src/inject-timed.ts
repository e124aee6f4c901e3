import { seedState, xorshift, type InjectSpec } from './inject.js';

/** What the timed faults act on, in one rank (src/rank/runtime.ts plugs in its domain, space and queue pairs). */
export interface TimedFaultTargets {
  rank: number;
  size: number;
  /** Invalidates every on-demand translation of the rank's domain (0 pages on a pinning adapter). */
  invalidateOnDemand(): number;
  /** Migrates, then reclaims to swap, every unpinned page of the rank. */
  migrateAndReclaim(): void;
  /** Forces the rank's queue pair to `peer` into the error state. */
  failQueuePair(peer: number, cause: string): void;
}

/** Faults injected into one rank so far, by kind (RankStats.faults). */
export interface FaultCounts {
  regEnomem: number;
  regEfault: number;
  odpStorms: number;
  memPressure: number;
  qpErrors: number;
  /** 1 once the rank's clock entered the link-down window. */
  linkDown: number;
}

/**
 * The faults of --inject that follow virtual time: ODP storms and memory-pressure sweeps at a rate,
 * one queue pair forced into error, the link-down window. due(t) runs at each program action of the
 * rank (the engine's sync, at the program clock): with exact timing every action before t of every
 * rank has run by then, so the same faults land between the same operations in every run. A rate
 * that comes due several times between two actions fires once (the sweep covers everything anyway).
 */
export class TimedFaults {
  readonly counts: FaultCounts = { regEnomem: 0, regEfault: 0, odpStorms: 0, memPressure: 0, qpErrors: 0, linkDown: 0 };
  private nextStorm = Infinity;
  private nextSweep = Infinity;
  /** The rank and peer whose queue pair fails at spec.qpErrorAt (the same draw in every rank). */
  private readonly victim: { rank: number; peer: number } | undefined;

  constructor(private readonly spec: InjectSpec, private readonly targets: TimedFaultTargets) {
    // the first of each rate falls at a seeded phase of its period, so ranks do not sweep in lockstep
    let state = seedState(spec.seed, targets.rank);
    let u: number;
    [u, state] = xorshift(state);
    if (spec.odpStorm > 0) this.nextStorm = (u * 1000) / spec.odpStorm;
    [u, state] = xorshift(state);
    if (spec.memPressure > 0) this.nextSweep = (u * 1000) / spec.memPressure;
    if (spec.qpErrorAt !== undefined && targets.size > 1) {
      const [a, s1] = xorshift(seedState(spec.seed, -1));
      const [b] = xorshift(s1);
      const rank = Math.floor(a * targets.size);
      this.victim = { rank, peer: (rank + 1 + Math.floor(b * (targets.size - 1))) % targets.size };
    }
  }

  /** Runs what is due by virtual time `t` (µs). */
  due(t: number): void {
    if (t >= this.nextStorm) {
      this.targets.invalidateOnDemand();
      this.counts.odpStorms++;
      this.nextStorm = t + 1000 / this.spec.odpStorm;
    }
    if (t >= this.nextSweep) {
      this.targets.migrateAndReclaim();
      this.counts.memPressure++;
      this.nextSweep = t + 1000 / this.spec.memPressure;
    }
    const v = this.victim;
    if (v !== undefined && v.rank === this.targets.rank && this.counts.qpErrors === 0 && t >= this.spec.qpErrorAt!) {
      this.counts.qpErrors++;
      this.targets.failQueuePair(v.peer, `injected fault qp-error (--inject): the queue pair was forced into the error state at ${this.spec.qpErrorAt} µs`);
    }
    const w = this.spec.linkDown;
    if (w !== undefined && this.counts.linkDown === 0 && t >= w.start) this.counts.linkDown = 1;
  }

  /** The failure cause of the rank's queue pair to `peer`, naming the injected fault behind it when there is one. */
  explain(cause: string, peer: number): string {
    const v = this.victim;
    const me = this.targets.rank;
    if (v !== undefined && !/injected fault/.test(cause) && ((v.rank === me && v.peer === peer) || (v.rank === peer && v.peer === me))) {
      return `${cause} (injected fault qp-error (--inject): rank ${v.rank}'s queue pair to rank ${v.peer} was forced into the error state at ${this.spec.qpErrorAt} µs)`;
    }
    const w = this.spec.linkDown;
    if (w !== undefined && /link was down/.test(cause)) {
      return `${cause} (injected fault link-down (--inject): down for [${w.start}, ${w.start + w.length}) µs)`;
    }
    return cause;
  }
}
