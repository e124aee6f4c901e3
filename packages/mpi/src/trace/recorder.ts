import type { CompleteEvent, CounterEvent, InstantEvent, RankTrace, TraceCategory, TraceEvent, TraceSettings } from './events.js';

/**
 * One rank's trace buffer. Events stay in the rank's memory until its end, when the rank hands them
 * to the launcher in its final message; nothing is written while the program runs. The buffer is
 * bounded: past `maxEvents` an event is counted as dropped, and the trace says how many.
 */
export class TraceRecorder {
  readonly events: TraceEvent[] = [];
  dropped = 0;
  /** Last value written to each counter track, so a sample is recorded only when it changed. */
  private readonly lastCounter = new Map<string, number>();

  constructor(
    readonly rank: number,
    readonly node: number,
    readonly settings: TraceSettings,
    /** The trace's clock, µs: the rank's virtual clock, or the wall clock since the rank started. */
    readonly now: () => number,
  ) {}

  private push(e: TraceEvent): void {
    if (this.events.length >= this.settings.maxEvents) this.dropped++;
    else this.events.push(e);
  }

  complete(name: string, cat: TraceCategory, ts: number, dur: number, args?: Record<string, unknown>): CompleteEvent {
    const e: CompleteEvent = { name, cat, ph: 'X', ts, dur: Math.max(0, dur), pid: this.node, tid: this.rank, ...(args ? { args } : {}) };
    this.push(e);
    return e;
  }

  instant(name: string, cat: TraceCategory, ts: number, args?: Record<string, unknown>): void {
    const e: InstantEvent = { name, cat, ph: 'i', s: 't', ts, pid: this.node, tid: this.rank, ...(args ? { args } : {}) };
    this.push(e);
  }

  /** A counter track sample (one track per name and rank), kept only when the value moved. */
  counter(name: string, ts: number, value: number): void {
    if (this.lastCounter.get(name) === value) return;
    this.lastCounter.set(name, value);
    const e: CounterEvent = { name: `${name} (rank ${this.rank})`, ph: 'C', ts, pid: this.node, tid: this.rank, args: { [name]: value } };
    this.push(e);
  }

  finish(endUs: number, split: RankTrace['split']): RankTrace {
    return { rank: this.rank, node: this.node, clock: this.settings.clock, events: this.events, dropped: this.dropped, endUs, split };
  }
}
