import { UsageError } from '../errors.js';
import { DEFAULT_TRACE_MAX_EVENTS, TRACE_CLOCKS, type RankTrace, type TraceClock, type TraceSettings } from './events.js';
import { writeTrace } from './writer.js';

/** runJob's `trace`: the file to write, or the file with a clock and a per-rank buffer bound. */
export type JobTraceOption = string | { file: string; clock?: TraceClock; maxEvents?: number };

/** What the launcher wrote. `dropped` > 0: some rank's buffer was full (the file says how many per rank). */
export interface JobTraceReport {
  file: string;
  events: number;
  dropped: number;
  flows: number;
}

export function parseTraceClock(text: string): TraceClock {
  if ((TRACE_CLOCKS as readonly string[]).includes(text)) return text as TraceClock;
  throw new UsageError(`--trace-clock ${text}: use virtual (the ranks' modeled clocks, the default) or wall (real time)`);
}

/** Checks the option once, in the launcher (a bad value is a UsageError naming it). */
export function traceSettings(o: JobTraceOption): { file: string; settings: TraceSettings } {
  const { file, clock = 'virtual', maxEvents = DEFAULT_TRACE_MAX_EVENTS } = typeof o === 'string' ? { file: o } : o;
  if (typeof file !== 'string' || file === '') throw new UsageError('trace: give the file to write the trace to (e.g. --trace run.json)');
  parseTraceClock(clock);
  if (!Number.isInteger(maxEvents) || maxEvents < 1) throw new UsageError(`trace maxEvents must be a positive integer (got ${String(maxEvents)})`);
  return { file, settings: { clock, maxEvents } };
}

/** Takes every rank's buffer out of its result and writes the job's trace file. */
export function writeJobTrace(file: string, ranks: Array<{ trace?: RankTrace }>): JobTraceReport {
  const traces: RankTrace[] = [];
  for (const r of ranks) {
    if (r.trace) traces.push(r.trace);
    delete r.trace;
  }
  const t = writeTrace(file, traces);
  return { file, events: t.traceEvents.length, dropped: t.otherData.dropped, flows: t.otherData.flows };
}
