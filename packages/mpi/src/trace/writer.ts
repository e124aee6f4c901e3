import { writeFileSync } from 'node:fs';
import type { CompleteEvent, FlowEvent, MessageEnd, MetadataEvent, RankTrace, TraceClock, TraceEvent } from './events.js';

/** The file Perfetto and chrome://tracing open: the JSON object form of the trace-event format. */
export interface ChromeTrace {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms' | 'ns';
  otherData: {
    tool: 'tsmpi';
    clock: TraceClock;
    ranks: number;
    /** Events the ranks' bounded buffers could not keep, summed. */
    dropped: number;
    /** Flows drawn (one per send matched to its receive), and message ends left unpaired. */
    flows: number;
    unpairedSends: number;
    unpairedRecvs: number;
  };
}

/** The metadata event that carries a rank's end clock and time split (read back by `tsmpi trace summary`). */
export const RANK_END = 'tsmpi_rank_end';

/** A message end on a rank, with whatever holds it (the call's event). */
export interface Located<T> { rank: number; end: MessageEnd; at: T }

/**
 * Pairs sends with the receives that matched them, by (source, destination, context, tag) in posting
 * order: MPI's non-overtaking rule makes the k-th send of a key match the k-th receive of that key.
 */
export function pairMessages<T>(sends: Iterable<Located<T>>, recvs: Iterable<Located<T>>): { pairs: Array<[Located<T>, Located<T>]>; unpairedSends: number; unpairedRecvs: number } {
  const out = new Map<string, Located<T>[]>();
  const inn = new Map<string, Located<T>[]>();
  for (const s of sends) add(out, `${s.rank}>${s.end.peer}:${s.end.context}:${s.end.tag}`, s);
  for (const v of recvs) add(inn, `${v.end.peer}>${v.rank}:${v.end.context}:${v.end.tag}`, v);
  const pairs: Array<[Located<T>, Located<T>]> = [];
  let unpairedSends = 0;
  let unpairedRecvs = 0;
  for (const [key, o] of out) {
    const i = inn.get(key) ?? [];
    inn.delete(key);
    o.sort((a, b) => a.end.order - b.end.order);
    i.sort((a, b) => a.end.order - b.end.order);
    const n = Math.min(o.length, i.length);
    for (let k = 0; k < n; k++) pairs.push([o[k]!, i[k]!]);
    unpairedSends += o.length - n;
    unpairedRecvs += i.length - n;
  }
  for (const i of inn.values()) unpairedRecvs += i.length;
  return { pairs, unpairedSends, unpairedRecvs };
}

/**
 * Assembles the ranks' buffers into one trace: names for every node (process) and rank (thread),
 * the ranks' events, a flow from each send to the receive that matched it, and a metadata event
 * per rank with its end clock. Sends and receives pair by (source, destination, context, tag) in
 * posting order: MPI's non-overtaking rule makes the k-th send of a key match the k-th receive.
 */
export function toChromeTrace(ranks: readonly RankTrace[]): ChromeTrace {
  const sorted = [...ranks].sort((a, b) => a.rank - b.rank);
  const events: TraceEvent[] = [];
  const nodes = [...new Set(sorted.map((r) => r.node))].sort((a, b) => a - b);
  for (const node of nodes) {
    events.push(meta('process_name', node, 0, { name: `node ${node}` }), meta('process_sort_index', node, 0, { sort_index: node }));
  }
  const sends: Located<CompleteEvent>[] = [];
  const recvs: Located<CompleteEvent>[] = [];
  for (const r of sorted) {
    events.push(meta('thread_name', r.node, r.rank, { name: `rank ${r.rank}` }), meta('thread_sort_index', r.node, r.rank, { sort_index: r.rank }));
    events.push(meta(RANK_END, r.node, r.rank, { endUs: r.endUs, ...r.split, dropped: r.dropped, clock: r.clock }));
    for (const e of r.events) {
      events.push(e);
      if (e.ph !== 'X') continue;
      for (const end of (e.args?.sends as MessageEnd[] | undefined) ?? []) sends.push({ rank: r.rank, end, at: e });
      for (const end of (e.args?.recvs as MessageEnd[] | undefined) ?? []) recvs.push({ rank: r.rank, end, at: e });
    }
  }
  const { pairs, unpairedSends, unpairedRecvs } = pairMessages(sends, recvs);
  let flows = 0;
  for (const [s, f] of pairs) {
    if (s.end.bytes < 0) s.end.bytes = f.end.bytes;
    const id = ++flows;
    const name = `message ${f.end.bytes} B`;
    // the receive was usually posted before the send: its arrow lands where the slice and the send overlap
    const at = Math.min(Math.max(s.at.ts, f.at.ts), f.at.ts + f.at.dur);
    events.push(flow('s', name, id, s.at, s.at.ts), flow('f', name, id, f.at, at));
  }
  return {
    traceEvents: events,
    displayTimeUnit: 'ns',
    otherData: {
      tool: 'tsmpi',
      clock: sorted[0]?.clock ?? 'virtual',
      ranks: sorted.length,
      dropped: sorted.reduce((n, r) => n + r.dropped, 0),
      flows,
      unpairedSends,
      unpairedRecvs,
    },
  };
}

/** Writes the trace file; returns the assembled trace (for its otherData). */
export function writeTrace(file: string, ranks: readonly RankTrace[]): ChromeTrace {
  const trace = toChromeTrace(ranks);
  writeFileSync(file, JSON.stringify(trace));
  return trace;
}

function add<T>(m: Map<string, Located<T>[]>, key: string, l: Located<T>): void {
  const list = m.get(key);
  if (list) list.push(l);
  else m.set(key, [l]);
}

function meta(name: string, pid: number, tid: number, args: Record<string, unknown>): MetadataEvent {
  return { name, ph: 'M', ts: 0, pid, tid, args };
}

/** A flow end bound to the slice `on` (bp 'e': the slice enclosing `ts`, not the next one). */
function flow(ph: 's' | 'f', name: string, id: number, on: CompleteEvent, ts: number): FlowEvent {
  return { name, cat: 'message', ph, id, ts, pid: on.pid, tid: on.tid, ...(ph === 'f' ? { bp: 'e' as const } : {}) };
}
