/**
 * `tsmpi bench rma`: OSU's one-sided suite (put/get latency and bandwidth, accumulate, fetch-and-op
 * and compare-and-swap latency) under fence and lock synchronisation, plus a dynamic-window pattern
 * that detaches, frees, mallocs and attaches the target's memory every iteration, over the study's
 * configurations. One job per configuration (2 ranks on 2 nodes, rma-program.ts). Prints a table per
 * suite, writes OSU-format text per suite, sync and configuration, a chart and the cells as JSON.
 * Exit status: 0; 1 if a configuration that should be safe saw a stale byte; 64 on bad usage.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { presets, type CostModel } from '@tsmpi/fabric';
import { runJob } from '@tsmpi/mpi';
import type { CliIo } from '../run.js';
import { costArg, eachFlag, subcommandArgs } from './subcommand.js';
import { configuration, type Configuration } from './configs.js';
import { BenchJobError, BenchUsageError } from './errors.js';
import { fmtUs } from './report/format.js';
import { lineChart } from './report/svg.js';
import { textTable } from './report/text-table.js';
import { RMA_SUITES, type RmaCellResult, type RmaSpec, type RmaSuite, type RmaSync } from './rma-spec.js';
import { formatSize, parseSizeRange, sizeSweep } from './sizes.js';

export const RMA_USAGE = `usage: tsmpi bench rma [options]

OSU one-sided tests between two ranks on two nodes, in virtual time (rank 0 origin, rank 1 target):
  put_latency get_latency put_bw get_bw acc_latency fop_latency cas_latency, each with fence and
  lock/unlock epochs, and dynamic: the target detaches, frees, mallocs and attaches its buffer every
  iteration (same address, new frames) and the origin puts into it. Every access is verified.

  --sizes MIN:MAX        message sizes, powers of two (default 1:1M)
  --iterations N         iterations per size (default 20)
  --window N             puts or gets per epoch in the bw tests (default 32)
  --suites a,b,...       a subset of the tests above (default all)
  --sync fence,lock      synchronisations (default both)
  --cost hdr|edr|ndr|FILE cost model (default hdr)
  --out DIR              where rma.json, rma.svg and the OSU text files go (default bench-results)
  -h, --help             this text`;

/** The study's configurations that one-sided traffic can tell apart (no pipelined rendezvous here). */
export const RMA_CONFIGS: readonly Configuration[] = [
  configuration('pinning', 'off'),
  configuration('pinning', 'none'),
  configuration('pinning', 'hooks'),
  configuration('pinning', 'notifier'),
  configuration('odp', 'notifier'),
];

const OSU_NAMES: Record<RmaSuite, string> = {
  put_latency: 'MPI_Put Latency Test', get_latency: 'MPI_Get latency Test', put_bw: 'MPI_Put Bandwidth Test',
  get_bw: 'MPI_Get Bandwidth Test', acc_latency: 'MPI_Accumulate latency Test', fop_latency: 'MPI_Fetch_and_op latency Test',
  cas_latency: 'MPI_Compare_and_swap latency Test', dynamic: 'MPI_Put Latency Test, dynamic window re-attached every iteration',
};

interface Args extends RmaSpec {
  cost: CostModel;
  out: string;
}

export interface RmaCell extends RmaCellResult {
  config: string;
  /** µs per operation (latency), or MB/s (bw) */
  value: number;
  unit: 'us' | 'MB/s';
}

export async function rmaCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const a = subcommandArgs(argv, parseArgs, RMA_USAGE, 'rma', io);
  if (typeof a === 'number') return a;
  const cells: RmaCell[] = [];
  for (const config of RMA_CONFIGS) cells.push(...(await runRmaConfig(config, a, a.cost)));
  mkdirSync(a.out, { recursive: true });
  const doc = { schema: 'tsmpi-bench-rma/1', cost: a.cost, spec: { suites: a.suites, syncs: a.syncs, sizes: a.sizes, iterations: a.iterations, window: a.window }, cells };
  writeFileSync(join(a.out, 'rma.json'), JSON.stringify(doc, null, 2) + '\n');
  writeFileSync(join(a.out, 'rma.svg'), rmaChart(cells));
  for (const [name, text] of osuFiles(cells)) writeFileSync(join(a.out, name), text);
  io.out(rmaTables(cells));
  const unsafe = cells.filter((c) => c.staleBytes > 0 && c.config !== 'pinning-none');
  const staleNone = cells.filter((c) => c.config === 'pinning-none').reduce((s, c) => s + c.staleBytes, 0);
  io.out(`\nstale bytes: pinning×none ${staleNone} (a cache nobody tells, on purpose); every other configuration ${unsafe.reduce((s, c) => s + c.staleBytes, 0)}`);
  io.out(`cells: ${join(a.out, 'rma.json')}   chart: ${join(a.out, 'rma.svg')}   OSU text: ${join(a.out, 'osu_*.txt')}`);
  return unsafe.length > 0 ? 1 : 0;
}

const fromSource = import.meta.url.endsWith('.ts');
const RMA_PROGRAM = new URL(`./rma-program.${fromSource ? 'ts' : 'js'}`, import.meta.url);

/** One job: every suite, sync and size of the spec under one configuration. */
export async function runRmaConfig(config: Configuration, spec: RmaSpec, cost: CostModel): Promise<RmaCell[]> {
  const maxSize = Math.max(...spec.sizes);
  const r = await runJob({
    np: 2, nodes: 2, program: RMA_PROGRAM, args: [JSON.stringify(spec)], fabric: config.fabric, rcache: config.rcache,
    pinMode: config.pinMode, cost: { ...cost }, memlock: Infinity, memBytes: 64 * 1024 * 1024 + 8 * maxSize, captureOutput: true,
  });
  if (r.exitCode !== 0) throw new BenchJobError(`rma/${config.id}`, new Error(r.error?.message ?? `exit code ${r.exitCode}`));
  const origin = r.ranks[0]!.value as RmaCellResult[];
  const target = r.ranks[1]!.value as RmaCellResult[];
  return origin.map((c, i) => {
    const bw = c.suite.endsWith('_bw');
    const ops = c.iterations * (bw ? spec.window : 1);
    return {
      ...c, staleBytes: c.staleBytes + target[i]!.staleBytes, config: config.id,
      value: bw ? (c.size * ops) / c.elapsedUs : c.elapsedUs / c.iterations, unit: bw ? 'MB/s' : 'us',
    };
  });
}

/** One table per suite and sync: sizes down, configurations across. */
export function rmaTables(cells: readonly RmaCell[]): string {
  const configs = [...new Set(cells.map((c) => c.config))];
  const out: string[] = [];
  for (const suite of RMA_SUITES) {
    for (const sync of ['fence', 'lock'] as RmaSync[]) {
      const here = cells.filter((c) => c.suite === suite && c.sync === sync);
      if (here.length === 0) continue;
      const sizes = [...new Set(here.map((c) => c.size))].sort((x, y) => x - y);
      const unit = here[0]!.unit;
      const rows = sizes.map((s) => [formatSize(s), ...configs.map((cf) => {
        const c = here.find((x) => x.config === cf && x.size === s);
        if (c === undefined) return '-';
        const v = unit === 'us' ? fmtUs(c.value) : c.value.toFixed(0);
        return c.staleBytes > 0 ? `${v} STALE ${c.staleBytes}` : v;
      })]);
      out.push(`\n${suite} (${sync}), ${unit === 'us' ? 'virtual µs per operation' : 'MB/s'}\n${textTable(['size', ...configs], rows, { leftColumns: 1 })}`);
    }
  }
  return out.join('\n');
}

/** OSU's own text layout, one file per suite, sync and configuration. */
export function osuFiles(cells: readonly RmaCell[]): [string, string][] {
  const groups = new Map<string, RmaCell[]>();
  for (const c of cells) {
    const k = `osu_${c.suite}_${c.sync}_${c.config}.txt`;
    groups.set(k, [...(groups.get(k) ?? []), c]);
  }
  return [...groups].map(([name, cs]) => {
    const c0 = cs[0]!;
    const head = `# OSU ${OSU_NAMES[c0.suite]} (tsmpi, virtual time; ${c0.config})\n# Window creation: ${c0.suite === 'dynamic' ? 'MPI_Win_create_dynamic' : 'MPI_Win_allocate'}\n` +
      `# Synchronization: ${c0.sync === 'fence' ? 'MPI_Win_fence' : 'MPI_Win_lock/unlock'}\n# Size      ${c0.unit === 'us' ? 'Latency (us)' : 'Bandwidth (MB/s)'}\n`;
    return [name, head + cs.map((c) => `${String(c.size).padEnd(10)}${c.value.toFixed(2).padStart(18)}${c.staleBytes > 0 ? `   # ${c.staleBytes} stale bytes` : ''}`).join('\n') + '\n'];
  });
}

const COLORS = ['#1f77b4', '#d62728', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b'];

/** Put latency (fence) and the dynamic pattern per configuration: where registration and staleness show. */
export function rmaChart(cells: readonly RmaCell[]): string {
  const configs = [...new Set(cells.map((c) => c.config))];
  const series = configs.flatMap((cf, i) => (['put_latency', 'dynamic'] as const).map((suite) => ({
    name: `${suite === 'dynamic' ? 'dynamic' : 'put'} ${cf}`,
    color: COLORS[i % COLORS.length]!,
    points: cells.filter((c) => c.config === cf && c.suite === suite && c.sync === 'fence').map((c) => ({ x: c.size, y: c.value, flagged: c.staleBytes > 0 })),
  }))).filter((s) => s.points.length > 0);
  return lineChart({ title: 'MPI_Put latency with fence: static window vs re-attached dynamic window', xLabel: 'message size', yLabel: 'µs (virtual time)', series });
}

function parseArgs(argv: readonly string[]): Args | 'help' {
  const a: Args = {
    suites: [...RMA_SUITES], syncs: ['fence', 'lock'], sizes: sizeSweep(1, 1024 * 1024), iterations: 20, window: 32,
    cost: presets.hdr, out: 'bench-results',
  };
  for (const f of eachFlag(argv)) {
    switch (f.name) {
      case '-h': case '--help':
        return 'help';
      case '--sizes': {
        const [min, max] = parseSizeRange(f.value());
        a.sizes = sizeSweep(min, max);
        break;
      }
      case '--iterations': a.iterations = f.count(1); break;
      case '--window': a.window = f.count(1); break;
      case '--suites': {
        const list = f.value().split(',');
        const bad = list.filter((s) => !(RMA_SUITES as readonly string[]).includes(s));
        if (bad.length > 0) throw new BenchUsageError(`--suites: unknown ${bad.join(', ')}; choose from ${RMA_SUITES.join(', ')}`);
        a.suites = list as RmaSuite[];
        break;
      }
      case '--sync': {
        const list = f.value().split(',');
        if (list.some((s) => s !== 'fence' && s !== 'lock')) throw new BenchUsageError('--sync: give fence, lock or fence,lock');
        a.syncs = list as RmaSync[];
        break;
      }
      case '--cost': {
        a.cost = costArg(f.value());
        break;
      }
      case '--out': a.out = f.value(); break;
      default:
        throw new BenchUsageError(`unknown option ${f.name}`);
    }
  }
  return a;
}
