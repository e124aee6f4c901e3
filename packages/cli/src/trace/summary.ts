import type { LoadedTrace, Slice } from './load.js';

export interface RankSummary {
  rank: number;
  node: number;
  /** Virtual µs: the program's own work, the runtime's work on its behalf, and blocked waiting. */
  computeUs: number;
  communicationUs: number;
  waitingUs: number;
  /** Registration and deregistration (part of communication): their modeled µs. */
  registrationUs: number;
  /** The rank's clock at its end (wtime() × 1e6); compute + communication + waiting add up to it. */
  wtimeUs: number;
  calls: number;
  dropped: number;
}

export interface MessageSummary { from: number; to: number; tag: number; bytes: number; protocol: string; atUs: number }

export interface TraceSummary {
  clock: string;
  ranks: RankSummary[];
  largest: MessageSummary[];
  /**
   * Registration time over the time spent in MPI calls (communication + waiting), job-wide (0..1): a
   * rendezvous whose receiver registers makes its sender wait, so registration shows in both.
   */
  registrationShare: number;
  /**
   * The longest chain of calls and compute stretches that wait on each other: each rank's slices in
   * order, plus an edge from every send to the receive that matched it (the time in between counts).
   */
  criticalPathUs: number;
  /** The rank the critical path ends on. */
  criticalPathRank: number;
}

const isNested = (s: Slice) => s.cat === 'registration';

/** The figures of `tsmpi trace summary`, from a trace tsmpi wrote. */
export function summarize(t: LoadedTrace, top = 5): TraceSummary {
  const ranks: RankSummary[] = t.ranks.map((r) => {
    let computeUs = 0, communicationUs = 0, waitingUs = 0, registrationUs = 0, calls = 0;
    for (const s of r.slices) {
      if (isNested(s)) {
        registrationUs += s.dur;
        continue;
      }
      computeUs += num(s.args.compute_us);
      communicationUs += num(s.args.comm_us);
      waitingUs += num(s.args.wait_us);
      if (s.cat !== 'compute') calls++;
    }
    const wtimeUs = r.split.computeUs + r.split.communicationUs + r.split.waitingUs;
    return { rank: r.rank, node: r.node, computeUs, communicationUs, waitingUs, registrationUs, wtimeUs, calls, dropped: r.dropped };
  });
  const largest: MessageSummary[] = t.ranks
    .flatMap((r) => r.slices.flatMap((s) => s.sends.map((m) => ({ from: r.rank, to: m.peer, tag: m.tag, bytes: m.bytes, protocol: String(s.args.protocol ?? ''), atUs: s.ts }))))
    .sort((a, b) => b.bytes - a.bytes || a.atUs - b.atUs)
    .slice(0, top);
  const comm = ranks.reduce((n, r) => n + r.communicationUs + r.waitingUs, 0);
  const reg = ranks.reduce((n, r) => n + r.registrationUs, 0);
  const path = criticalPath(t);
  return { clock: t.clock, ranks, largest, registrationShare: comm > 0 ? reg / comm : 0, criticalPathUs: path.us, criticalPathRank: path.rank };
}

/**
 * Longest path by dynamic programming over slices in order of their end: a slice's length is its
 * predecessor's on its rank plus its duration, or, when it received a message, the sending call's
 * predecessor plus the time from the send's start to this slice's end, whichever is longer.
 */
function criticalPath(t: LoadedTrace): { us: number; rank: number } {
  const prev = new Map<Slice, Slice | undefined>();
  const all: Slice[] = [];
  for (const r of t.ranks) {
    let last: Slice | undefined;
    for (const s of r.slices) {
      if (isNested(s)) continue;
      prev.set(s, last);
      all.push(s);
      last = s;
    }
  }
  all.sort((a, b) => a.ts + a.dur - (b.ts + b.dur) || a.ts - b.ts);
  const length = new Map<Slice, number>();
  const at = (s: Slice | undefined) => (s ? length.get(s) ?? 0 : 0);
  let best = { us: 0, rank: t.ranks[0]?.rank ?? 0 };
  for (const s of all) {
    let l = at(prev.get(s)) + s.dur;
    for (const from of t.sentBy.get(s) ?? []) l = Math.max(l, at(prev.get(from)) + (s.ts + s.dur - from.ts));
    length.set(s, l);
    if (l > best.us) best = { us: l, rank: s.rank };
  }
  return best;
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

/** The summary as text: a table per rank, the largest messages, the registration share, the critical path. */
export function formatSummary(s: TraceSummary): string {
  const f = (n: number) => n.toFixed(3).padStart(13);
  const lines = [
    `# trace summary (${s.clock === 'wall' ? 'wall-clock trace; the time split is still virtual µs' : 'virtual µs'})`,
    '# rank  node     compute_us        comm_us        wait_us   registration_us       wtime_us  calls',
    ...s.ranks.map((r) => `${String(r.rank).padStart(6)}${String(r.node).padStart(6)}  ${f(r.computeUs)}  ${f(r.communicationUs)}  ${f(r.waitingUs)}     ${f(r.registrationUs)}  ${f(r.wtimeUs)}  ${String(r.calls).padStart(5)}${r.dropped ? `  (${r.dropped} events dropped: figures are partial)` : ''}`),
    '',
    '# largest messages',
    ...s.largest.map((m) => `  ${m.bytes} B  rank ${m.from} -> ${m.to}  tag ${m.tag}  ${m.protocol}  at ${m.atUs.toFixed(3)} us`),
    '',
    `registration share of the time in MPI calls: ${(s.registrationShare * 100).toFixed(1)}%`,
    `critical path: ${s.criticalPathUs.toFixed(3)} us (ends on rank ${s.criticalPathRank})`,
  ];
  return lines.join('\n');
}
