export { traceCommand, TRACE_USAGE } from './command.js';
export { loadTrace, fromEvents } from './load.js';
export { summarize, formatSummary } from './summary.js';
export { timelineHtml, CATEGORY_COLORS, VIEW_LAYOUT } from './view.js';
export type { TraceSummary, RankSummary, MessageSummary } from './summary.js';
export type { LoadedTrace, TracedRank, Slice } from './load.js';
export { studyTimelines, timelineFrame } from './embed.js';
export type { EmbeddedTimeline } from './embed.js';
