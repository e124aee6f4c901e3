import { readFileSync } from 'node:fs';
import { RANK_END, UsageError, pairMessages, type ChromeTrace, type Located, type MessageEnd } from '@tsmpi/mpi';

/** A complete event as read back from a file. */
export interface Slice {
  name: string;
  cat: string;
  ts: number;
  dur: number;
  rank: number;
  node: number;
  args: Record<string, unknown>;
  sends: MessageEnd[];
  recvs: MessageEnd[];
}

/** One rank of a trace: its slices in time order and what its end record says. */
export interface TracedRank {
  rank: number;
  node: number;
  slices: Slice[];
  endUs: number;
  split: { computeUs: number; communicationUs: number; waitingUs: number };
  dropped: number;
}

export interface LoadedTrace {
  clock: string;
  ranks: TracedRank[];
  /** a receiving call → the calls that sent what it received */
  sentBy: Map<Slice, Slice[]>;
  raw: ChromeTrace;
}

/** Reads a trace tsmpi wrote; anything else is a UsageError saying what is missing. */
export function loadTrace(file: string): LoadedTrace {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the trace ${file}: ${(e as Error).message}`);
  }
  let raw: ChromeTrace;
  try {
    raw = JSON.parse(text) as ChromeTrace;
  } catch (e) {
    throw new UsageError(`${file} is not JSON (${(e as Error).message}): give a file written by tsmpi run --trace`);
  }
  if (!raw || !Array.isArray(raw.traceEvents)) throw new UsageError(`${file} has no traceEvents array: give a file written by tsmpi run --trace`);
  return fromEvents(raw);
}

export function fromEvents(raw: ChromeTrace): LoadedTrace {
  const byRank = new Map<number, TracedRank>();
  const rankOf = (node: number, rank: number): TracedRank => {
    let r = byRank.get(rank);
    if (!r) byRank.set(rank, (r = { rank, node, slices: [], endUs: 0, split: { computeUs: 0, communicationUs: 0, waitingUs: 0 }, dropped: 0 }));
    return r;
  };
  for (const e of raw.traceEvents) {
    if (e.ph === 'M' && e.name === RANK_END) {
      const r = rankOf(e.pid, e.tid);
      const a = e.args as Record<string, number>;
      r.endUs = a.endUs!;
      r.split = { computeUs: a.computeUs!, communicationUs: a.communicationUs!, waitingUs: a.waitingUs! };
      r.dropped = a.dropped ?? 0;
    } else if (e.ph === 'X') {
      const args = e.args ?? {};
      rankOf(e.pid, e.tid).slices.push({
        name: e.name, cat: e.cat, ts: e.ts, dur: e.dur, rank: e.tid, node: e.pid, args,
        sends: (args.sends as MessageEnd[] | undefined) ?? [], recvs: (args.recvs as MessageEnd[] | undefined) ?? [],
      });
    }
  }
  const ranks = [...byRank.values()].sort((a, b) => a.rank - b.rank);
  for (const r of ranks) r.slices.sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const sends: Located<Slice>[] = [];
  const recvs: Located<Slice>[] = [];
  for (const r of ranks) {
    for (const at of r.slices) {
      for (const end of at.sends) sends.push({ rank: r.rank, end, at });
      for (const end of at.recvs) recvs.push({ rank: r.rank, end, at });
    }
  }
  const { pairs } = pairMessages(sends, recvs);
  const sentBy = new Map<Slice, Slice[]>();
  for (const [s, v] of pairs) {
    const list = sentBy.get(v.at);
    if (list) list.push(s.at);
    else sentBy.set(v.at, [s.at]);
  }
  return { clock: raw.otherData?.clock ?? 'virtual', ranks, sentBy, raw };
}
