/**
 * Many ranks in one process: the wall time of a 1024-rank job (16 nodes × 64 ranks: a barrier and an
 * allreduce, every element checked), the host memory each rank takes, and how a barrier's wall time
 * grows from 64 to 128 ranks (2 nodes, as issue 11 measured it).
 *
 *   npx tsx --conditions=source bench/mpi/scale.ts [--quick] [--timing exact|fast] [--ranks N]
 *     (--quick: one run of each, and the large job at 256 ranks on 4 nodes instead of 1024 on 16)
 *   npx tsx --conditions=source bench/mpi/scale.ts --sync [--quick]   # exact timing's cost: barriers at 64 and 128 ranks, exact ÷ fast
 *
 * bytesPerRank: the process's resident set is sampled every 25 ms while the job runs; its peak minus
 * the resident set just before the job, divided by the ranks. It counts everything a rank adds: its
 * worker thread (V8 heap, code, stack), its shared tables and the node memory it touches.
 * bench/mpi.ts imports measureScale() for its `ranks1024WallMs` and `bytesPerRank` figures.
 *
 * Before the large job starts, its memory is projected from the 128-rank runs' bytes per rank: a job
 * the host cannot hold is not started (the figures say why) instead of taking the host down —
 * 1024 ranks at 16 MB each once grew to 15 GB resident, and died after 12 minutes without a report.
 */
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { runJob } from '@tsmpi/mpi';

export const SCALE_TARGETS = { ranks: 1024, nodes: 16, bytesPerRank: 10 * 1024 * 1024, barrierGrowth: 1.17 /* log2(128)/log2(64) */ };
/** Ranks per node of the large job (16 × 64 = 1024), and its size under --quick. */
const RANKS_PER_NODE = 64;
const QUICK_RANKS = 256;
/** What the host must keep free while the large job runs (memguard.sh's floor), and the projection's margin. */
const KEEP_FREE_BYTES = 4 * 2 ** 30;
const PROJECTION_MARGIN = 1.25;
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
  /** Present when the large job ran with 1024 ranks. */
  ranks1024WallMs?: number;
  /** Of the large job when it ran, else of the 128-rank runs. */
  bytesPerRank: number;
  /** Why the large job was not started (its projected memory did not fit), if it was not. */
  largeJobSkipped?: string;
  /** barrier wall time at 128 ranks ÷ at 64 ranks (medians), and each run's per-barrier ms */
  barrier128Over64: number;
  barrier64Ms: number[];
  barrier128Ms: number[];
  largeJobRuns: ScaleRun[];
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
  const small: ScaleRun[] = [];
  for (let i = 0; i < runs; i++) {
    b64.push((await scaleRun(64, 2, timing, 20)).barrierWallMs);
    small.push(await scaleRun(128, 2, timing, 20));
    b128.push(small[small.length - 1]!.barrierWallMs);
  }
  const np = opts.ranks ?? (opts.quick ? QUICK_RANKS : SCALE_TARGETS.ranks);
  const perRank = Math.max(...small.map((r) => r.bytesPerRank));
  const skipped = memoryShortfall(np, perRank);
  if (skipped) process.stderr.write(`# bench/mpi/scale.ts: ${skipped}\n`);
  const big: ScaleRun[] = [];
  for (let i = 0; i < runs && !skipped; i++) big.push(await scaleRun(np, Math.max(1, Math.ceil(np / RANKS_PER_NODE)), timing, 5));
  load.push(loadavg()[0]!);
  const best = big.length > 0 ? big.reduce((a, b) => (b.wallMs < a.wallMs ? b : a)) : undefined;
  return {
    ...(best?.np === SCALE_TARGETS.ranks ? { ranks1024WallMs: best.wallMs } : {}),
    ...(skipped ? { largeJobSkipped: skipped } : {}),
    bytesPerRank: Math.round(best?.bytesPerRank ?? perRank),
    barrier128Over64: stats(b128).median / stats(b64).median,
    barrier64Ms: b64,
    barrier128Ms: b128,
    largeJobRuns: big,
    timing,
    load,
  };
}

/**
 * Why a job of `np` ranks at `bytesPerRank` each must not start now (undefined: it fits): the host's
 * available memory (MemAvailable, Linux) must hold the projection with a margin and still keep
 * memguard.sh's floor free.
 */
export function memoryShortfall(np: number, bytesPerRank: number, available = availableMemory()): string | undefined {
  if (available === undefined) return undefined;
  const need = np * bytesPerRank * PROJECTION_MARGIN;
  if (need + KEEP_FREE_BYTES <= available) return undefined;
  const gb = (b: number) => `${(b / 2 ** 30).toFixed(1)} GB`;
  return `${np} ranks not started: at ${(bytesPerRank / 2 ** 20).toFixed(1)} MB per rank (the 128-rank runs) they need about ${gb(need)}, ` +
    `and the host has ${gb(available)} available of which ${gb(KEEP_FREE_BYTES)} must stay free; run it on a quieter host or with --ranks N`;
}

function availableMemory(): number | undefined {
  try {
    const kb = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
    return kb ? Number(kb[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What exact timing costs at scale: the barrier pair (64 and 128 ranks on 2 nodes) under exact and
 * fast timing, interleaved so both see the same load; per size min/median/max ms of each and the ratio of medians.
 */
export async function measureSyncCost(opts: { quick: boolean }): Promise<Record<string, unknown>> {
  const runs = opts.quick ? 1 : 3;
  const load = [loadavg()[0]!];
  const ms: Record<string, number[]> = {};
  for (let i = 0; i < runs; i++) {
    for (const np of [64, 128]) {
      for (const timing of ['exact', 'fast'] as const) (ms[`${np} ${timing}`] ??= []).push((await scaleRun(np, 2, timing, 20)).barrierWallMs);
    }
  }
  load.push(loadavg()[0]!);
  const ratio = (np: number) => stats(ms[`${np} exact`]!).median / stats(ms[`${np} fast`]!).median;
  return { barrierMs: ms, exactOverFast64: ratio(64), exactOverFast128: ratio(128), load };
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--sync')) {
  const f = await measureSyncCost({ quick: process.argv.includes('--quick') });
  const ms = f.barrierMs as Record<string, number[]>;
  console.log(`node ${process.version}, ${new Date().toISOString()}, load ${(f.load as number[]).map((l) => l.toFixed(1)).join(' → ')}`);
  for (const [k, xs] of Object.entries(ms)) {
    const s = stats(xs);
    console.log(`barrier wall ms, ${k}: ${s.min.toFixed(2)} / ${s.median.toFixed(2)} / ${s.max.toFixed(2)} (min / median / max of ${xs.length})`);
  }
  console.log(`exact ÷ fast (medians): 64 ranks ${(f.exactOverFast64 as number).toFixed(2)}, 128 ranks ${(f.exactOverFast128 as number).toFixed(2)}`);
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i < 0 ? undefined : process.argv[i + 1];
  };
  const timing = (arg('--timing') ?? 'exact') as 'exact' | 'fast';
  const ranks = arg('--ranks') === undefined ? undefined : Number(arg('--ranks'));
  const f = await measureScale({ quick: process.argv.includes('--quick'), timing, ...(ranks ? { ranks } : {}) });
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
  console.log(`node ${process.version}, ${new Date().toISOString()}, timing ${timing}, load ${f.load.map((l) => l.toFixed(1)).join(' → ')}`);
  const big = f.largeJobRuns[0];
  if (big) {
    const s = stats(f.largeJobRuns.map((r) => r.wallMs));
    console.log(`${big.np} ranks (${big.nodes} nodes): wall min/median/max ${s.min.toFixed(0)} / ${s.median.toFixed(0)} / ${s.max.toFixed(0)} ms; ` +
      `queue pairs ${big.queuePairs}`);
  } else {
    console.log(f.largeJobSkipped);
  }
  console.log(`bytes per rank: ${mb(f.bytesPerRank)} (target ≤ ${mb(SCALE_TARGETS.bytesPerRank)}: ${f.bytesPerRank <= SCALE_TARGETS.bytesPerRank ? 'met' : 'not met'})`);
  const b64 = stats(f.barrier64Ms);
  const b128 = stats(f.barrier128Ms);
  console.log(`barrier wall ms, 64 ranks: ${b64.min.toFixed(2)} / ${b64.median.toFixed(2)} / ${b64.max.toFixed(2)}; 128 ranks: ` +
    `${b128.min.toFixed(2)} / ${b128.median.toFixed(2)} / ${b128.max.toFixed(2)}; 128 ÷ 64 = ${f.barrier128Over64.toFixed(2)} ` +
    `(log2 growth ${SCALE_TARGETS.barrierGrowth.toFixed(2)}, 128 ÷ 64 threads = 2)`);
}
