/**
 * Trace events in Chrome's trace-event format (the JSON Perfetto and chrome://tracing open):
 * https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU
 * One process per simulated node (pid = node), one thread per rank (tid = world rank); times in µs.
 */

/** Which clock a trace's timestamps read: the rank's virtual clock (the default) or the wall clock. */
export type TraceClock = 'virtual' | 'wall';
export const TRACE_CLOCKS: readonly TraceClock[] = ['virtual', 'wall'];

/** The categories a recorded event falls in (the `cat` field); the summary and the view group by them. */
export type TraceCategory = 'p2p' | 'wait' | 'probe' | 'collective' | 'compute' | 'registration' | 'rcache' | 'odp' | 'intra' | 'runtime';

export interface TraceEventBase {
  name: string;
  cat?: string;
  ph: string;
  ts: number;
  pid: number;
  tid: number;
  args?: Record<string, unknown>;
}
/** A complete event: an MPI call, a registration, a compute stretch. */
export interface CompleteEvent extends TraceEventBase { ph: 'X'; dur: number; cat: TraceCategory }
/** An instant event (thread scope): a cache hit or miss, an invalidation, an ODP fault. */
export interface InstantEvent extends TraceEventBase { ph: 'i'; s: 't'; cat: TraceCategory }
/** A counter sample: args hold the series' values. */
export interface CounterEvent extends TraceEventBase { ph: 'C' }
/** Flow start (at a send) and finish (at the receive that matched it), bound to their enclosing slices. */
export interface FlowEvent extends TraceEventBase { ph: 's' | 'f'; id: number; cat: 'message'; bp?: 'e' }
/** Metadata: process and thread names, sort order, dropped events. */
export interface MetadataEvent extends TraceEventBase { ph: 'M' }

export type TraceEvent = CompleteEvent | InstantEvent | CounterEvent | FlowEvent | MetadataEvent;

/** One message end as a rank saw it (world ranks), for pairing sends with receives into flows. */
export interface MessageEnd {
  /** the other rank (world) */
  peer: number;
  tag: number;
  /** the communicator's context id */
  context: number;
  bytes: number;
  /** order of posting on this rank (non-overtaking pairs the k-th send with the k-th receive of a key) */
  order: number;
}

/** What one rank hands the launcher at its end (in its final message). */
export interface RankTrace {
  rank: number;
  node: number;
  clock: TraceClock;
  /** Complete, instant and counter events, in the order recorded. */
  events: TraceEvent[];
  /** Events the bounded buffer could not keep (0 when nothing was lost). */
  dropped: number;
  /** The rank's clock at its end (µs): wtime() × 1e6 for the virtual clock. */
  endUs: number;
  /** The rank's time split at its end (virtual µs), as stats().time reports it. */
  split: { computeUs: number; communicationUs: number; waitingUs: number };
}

/** How a rank records (RankWorkerData.trace). */
export interface TraceSettings {
  clock: TraceClock;
  /** Most events a rank keeps; beyond it events are counted as dropped. */
  maxEvents: number;
}

export const DEFAULT_TRACE_MAX_EVENTS = 1_000_000;
