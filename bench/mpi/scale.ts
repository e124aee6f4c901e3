/**
 * Many ranks in one process: the wall time of a 1024-rank job (16 nodes × 64 ranks: a barrier and an
 * allreduce, every element checked), the host memory each rank takes, and how a barrier's wall time
 * grows from 64 to 128 ranks (2 nodes, as issue 11 measured it).
 *
 *   npx tsx --conditions=source bench/mpi/scale.ts [--quick] [--timing exact|fast] [--ranks N]
 *
 * bytesPerRank: the process's resident set is sampled every 25 ms while the job runs; its peak minus
 * the resident set just before the job, divided by the ranks. It counts everything a rank adds: its
 * worker thread (V8 heap, code, stack), its shared tables and the node memory it touches.
 * bench/mpi.ts imports measureScale() for its `ranks1024WallMs` and `bytesPerRank` figures.
 */
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { runJob } from '@tsmpi/mpi';

export const SCALE_TARGETS = { ranks: 1024, nodes: 16, bytesPerRank: 10 * 1024 * 1024, barrierGrowth: 1.17 /* log2(128)/log2(64) */ };
const program = new URL('./scale-program.ts', import.meta.url);

export interface ScaleRun {
  np: number;
  nodes: number;
  wallMs: number;
  bytesPerRank: number;
  barrierWallMs: number;
  queuePairs: number;
}

/** One job of `np` ranks over `nodes` nodes; throws unless every rank finished with the right sum. */
export async function scaleRun(np: number, nodes: number, timing: 'exact' | 'fast', rounds = 10): Promise<ScaleRun> {
  const before = process.memoryUsage.rss();
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 25);
  try {
    const r = await runJob({ np, nodes, program, args: [String(rounds)], timing, deadlockMs: 120_000 });
    peak = Math.max(peak, process.memoryUsage.rss());
    if (r.exitCode !== 0) throw new Error(`scale: ${np} ranks failed: ${r.error?.message ?? `exit ${r.exitCode}`}`);
    const want = (np * (np - 1)) / 2;
    const bad = r.ranks.filter((x) => (x.value as { sum: number } | undefined)?.sum !== want);
    if (bad.length > 0) throw new Error(`scale: ${bad.length} of ${np} ranks got a wrong allreduce`);
    return {
      np, nodes, wallMs: r.wallMs, bytesPerRank: (peak - before) / np,
      barrierWallMs: (r.ranks[0]!.value as { barrierWallMs: number }).barrierWallMs,
      queuePairs: (r.queuePairs ?? []).reduce((a, b) => a + b, 0),
    };
  } finally {
    clearInterval(sampler);
  }
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! };
};

export interface ScaleFigures {
  ranks1024WallMs: number;
  bytesPerRank: number;
  /** barrier wall time at 128 ranks ÷ at 64 ranks (medians), and each run's per-barrier ms */
  barrier128Over64: number;
  barrier64Ms: number[];
  barrier128Ms: number[];
  ranks1024Runs: ScaleRun[];
  timing: 'exact' | 'fast';
  load: number[];
}

/**
 * `ranks1024WallMs` (best of the runs) and `bytesPerRank` (of that run); quick: one 1024-rank run and
 * one barrier pair, else three of each, interleaved 64/128 so both see the same load.
 */
export async function measureScale(opts: { quick: boolean; timing?: 'exact' | 'fast'; ranks?: number }): Promise<ScaleFigures & Record<string, unknown>> {
  const timing = opts.timing ?? 'exact';
  const runs = opts.quick ? 1 : 3;
  const load = [loadavg()[0]!];
  const b64: number[] = [];
  const b128: number[] = [];
  for (let i = 0; i < runs; i++) {
    b64.push((await scaleRun(64, 2, timing, 20)).barrierWallMs);
    b128.push((await scaleRun(128, 2, timing, 20)).barrierWallMs);
  }
  const np = opts.ranks ?? SCALE_TARGETS.ranks;
  const big: ScaleRun[] = [];
  for (let i = 0; i < runs; i++) big.push(await scaleRun(np, SCALE_TARGETS.nodes, timing, 5));
  load.push(loadavg()[0]!);
  const best = big.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
  return {
    ranks1024WallMs: best.wallMs,
    bytesPerRank: Math.round(best.bytesPerRank),
    barrier128Over64: stats(b128).median / stats(b64).median,
    barrier64Ms: b64,
    barrier128Ms: b128,
    ranks1024Runs: big,
    timing,
    load,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i < 0 ? undefined : process.argv[i + 1];
  };
  const timing = (arg('--timing') ?? 'exact') as 'exact' | 'fast';
  const ranks = arg('--ranks') === undefined ? undefined : Number(arg('--ranks'));
  const f = await measureScale({ quick: process.argv.includes('--quick'), timing, ...(ranks ? { ranks } : {}) });
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
  const s = stats(f.ranks1024Runs.map((r) => r.wallMs));
  console.log(`node ${process.version}, ${new Date().toISOString()}, timing ${timing}, load ${f.load.map((l) => l.toFixed(1)).join(' → ')}`);
  console.log(`${f.ranks1024Runs[0]!.np} ranks (${SCALE_TARGETS.nodes} nodes): wall min/median/max ${s.min.toFixed(0)} / ${s.median.toFixed(0)} / ${s.max.toFixed(0)} ms; ` +
    `queue pairs ${f.ranks1024Runs[0]!.queuePairs}`);
  console.log(`bytes per rank: ${mb(f.bytesPerRank)} (target ≤ ${mb(SCALE_TARGETS.bytesPerRank)}: ${f.bytesPerRank <= SCALE_TARGETS.bytesPerRank ? 'met' : 'not met'})`);
  const b64 = stats(f.barrier64Ms);
  const b128 = stats(f.barrier128Ms);
  console.log(`barrier wall ms, 64 ranks: ${b64.min.toFixed(2)} / ${b64.median.toFixed(2)} / ${b64.max.toFixed(2)}; 128 ranks: ` +
    `${b128.min.toFixed(2)} / ${b128.median.toFixed(2)} / ${b128.max.toFixed(2)}; 128 ÷ 64 = ${f.barrier128Over64.toFixed(2)} ` +
    `(log2 growth ${SCALE_TARGETS.barrierGrowth.toFixed(2)}, 128 ÷ 64 threads = 2)`);
}
