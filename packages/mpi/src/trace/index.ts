export { installTracing, finishTracing } from './install.js';
export { toChromeTrace, writeTrace, pairMessages, RANK_END } from './writer.js';
export type { Located } from './writer.js';
export { TRACE_CLOCKS, DEFAULT_TRACE_MAX_EVENTS } from './events.js';
export type { ChromeTrace } from './writer.js';
export type { TraceTargets } from './install.js';
export type {
  TraceClock, TraceCategory, TraceEvent, CompleteEvent, InstantEvent, CounterEvent, FlowEvent, MetadataEvent, MessageEnd,
  RankTrace, TraceSettings,
} from './events.js';
export { parseTraceClock, traceSettings, writeJobTrace } from './job.js';
export type { JobTraceOption, JobTraceReport } from './job.js';
