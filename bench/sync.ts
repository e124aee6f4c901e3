/**
 * What exact virtual time costs in wall-clock time: the same jobs with `timing: 'exact'` (ranks
 * synchronised conservatively, the default) and `timing: 'fast'` (unsynchronised), interleaved in one
 * run so both see the same machine, each repeated; min / median / max of the repeats and the
 * exact ÷ fast ratio of the medians.
 *
 *   npx tsx --conditions=source bench/sync.ts            (5 repeats)
 *   npx tsx --conditions=source bench/sync.ts --quick    (3 repeats, shorter jobs)
 *   npx tsx --conditions=source bench/sync.ts --procs    (jobs 3 and 4 on 2 nodes as 2 node
 *                                                          processes, runProcsJob; 1 and 2 skipped)
 *   npx tsx --conditions=source bench/sync.ts --quick --intra shm   (every job with --intra shm: the
 *                                                          ranks of a node talk through the shm rings)
 *
 * 1. 8 B ping-pong, 2 ranks on one node (bench/mpi.ts's rank program): one-way µs.
 * 2. 1 MiB windowed bandwidth, same job: MB/s.
 * 3. 8 ranks on 2 nodes, mpi/test/programs/determinism.ts (ANY_SOURCE, alltoall, allreduce,
 *    polling, probes: every rank contends): whole-job wall ms.
 * 4. examples/heat.ts on 4 ranks: whole-job wall ms.
 * Targets: ping-pong no slower; the study (dominated by 2-rank cells like 1 and 2) under 1.3x.
 */
import { cpus, loadavg } from 'node:os';
import { runJob, runProcsJob, type IntraKind, type JobResult, type TimingKind } from '@tsmpi/mpi';

const quick = process.argv.includes('--quick');
// Across node processes: the node processes synchronise through promises on the network wire.
const procs = process.argv.includes('--procs');
const run = procs ? runProcsJob : runJob;
const intraAt = process.argv.indexOf('--intra');
const intra = intraAt > 0 ? process.argv[intraAt + 1] as IntraKind : undefined;
const on = intra === undefined ? {} : { intra };
const REPEATS = quick ? 3 : 5;
const MPI_RANK_PROGRAM = new URL('./mpi.ts', import.meta.url);
const CONTENDED = new URL('../packages/mpi/test/programs/determinism.ts', import.meta.url);
const HEAT = new URL('../examples/heat.ts', import.meta.url);

interface Figures {
  pingPongUs: number;
  bandwidthMBps: number;
  contendedMs: number;
  heatMs: number;
}

function ok(r: JobResult, what: string): JobResult {
  if (r.exitCode !== 0) throw new Error(`${what} failed: ${r.error?.message}`);
  return r;
}

async function once(timing: TimingKind): Promise<Figures> {
  const pp = procs ? undefined : ok(await runJob({
    np: 2, program: MPI_RANK_PROGRAM, args: quick ? ['--quick'] : [], captureOutput: true, memlock: Infinity, timing, ...on,
  }), 'ping-pong');
  const f = (pp?.ranks[0]!.value ?? { latencyUs: NaN, bandwidthMBps: NaN }) as { latencyUs: number; bandwidthMBps: number };
  let t0 = performance.now();
  ok(await run({ np: 8, nodes: 2, program: CONTENDED, args: ['5', quick ? '3' : '6', '0'], captureOutput: true, timing, ...on }), 'contended');
  const contendedMs = performance.now() - t0;
  t0 = performance.now();
  ok(await run({ np: 4, ...(procs ? { nodes: 2 } : {}), program: HEAT, captureOutput: true, timing, ...on }), 'heat');
  const heatMs = performance.now() - t0;
  return { pingPongUs: f.latencyUs, bandwidthMBps: f.bandwidthMBps, contendedMs, heatMs };
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! };
};

const load0 = loadavg()[0]!;
const runs: Record<TimingKind, Figures[]> = { exact: [], fast: [] };
for (let i = 0; i < REPEATS; i++) {
  // interleaved, and the order alternates, so a change in the machine's load hits both alike
  for (const t of (i % 2 === 0 ? ['exact', 'fast'] : ['fast', 'exact']) as TimingKind[]) runs[t].push(await once(t));
}
const load1 = loadavg()[0]!;

console.log(`# bench/sync.ts${procs ? ' --procs' : ''}${intra ? ` --intra ${intra}` : ''} — exact vs fast timing, ${REPEATS} interleaved repeats, Node ${process.versions.node}, ${cpus().length} CPUs, ` +
  `load average ${load0.toFixed(2)} → ${load1.toFixed(2)}`);
const fmt = (x: { min: number; median: number; max: number }, d: number) => `${x.min.toFixed(d)} / ${x.median.toFixed(d)} / ${x.max.toFixed(d)}`;
const rows: Array<[string, keyof Figures, number, boolean]> = [
  ['8 B one-way latency, µs (2 ranks)', 'pingPongUs', 2, false],
  ['1 MiB bandwidth, MB/s (2 ranks, window 8)', 'bandwidthMBps', 0, true],
  ['8 ranks / 2 nodes, contended program, wall ms', 'contendedMs', 0, false],
  ['heat.ts, 4 ranks, wall ms', 'heatMs', 0, false],
];
if (procs) rows.splice(0, 2);
rows[rows.length - 1]![0] = procs ? 'heat.ts, 4 ranks / 2 node processes, wall ms' : rows[rows.length - 1]![0];
if (procs) rows[0]![0] = '8 ranks / 2 node processes, contended, wall ms';
const out: Record<string, unknown> = {};
for (const [label, key, d, higherIsBetter] of rows) {
  const e = stats(runs.exact.map((r) => r[key]));
  const f = stats(runs.fast.map((r) => r[key]));
  // cost of exactness: > 1 means exact is slower
  const cost = higherIsBetter ? f.median / e.median : e.median / f.median;
  console.log(`${label.padEnd(48)} exact ${fmt(e, d).padEnd(26)} fast ${fmt(f, d).padEnd(26)} exact costs ${cost.toFixed(2)}x`);
  out[key] = { exact: e, fast: f, exactCost: cost };
}
console.log(JSON.stringify({ repeats: REPEATS, ...on, loadavg: [load0, load1], ...out }));
