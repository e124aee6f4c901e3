/**
 * `tsmpi bench intranode`: shm, CMA, XPMEM and RDMA loopback between two ranks of one node, across
 * message sizes, each run through the runtime (intranode-run.ts). Prints a table and the published-
 * shape checks, writes a chart (SVG) and the cells (JSON) to --out. Exit status: 0, 1 if any byte
 * arrived wrong, USAGE_EXIT_CODE (64) on bad usage.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { presets, type CostModel } from '@tsmpi/fabric';
import type { CliIo } from '../run.js';
import { costArg, eachFlag, subcommandArgs } from './subcommand.js';
import { BenchUsageError } from './errors.js';
import {
  INTRANODE_TRANSPORTS, runIntranode, type IntranodeCell, type IntranodePattern, type IntranodeTransport,
} from './intranode-run.js';
import { fmtMBps, fmtUs } from './report/format.js';
import { lineChart } from './report/svg.js';
import { textTable } from './report/text-table.js';
import { formatSize, parseSizeRange, sizeSweep } from './sizes.js';

export const INTRANODE_USAGE = `usage: tsmpi bench intranode [options]

Two ranks on one node ping-pong a buffer over each intra-node transport (tsmpi run --intra), in
virtual time; every message goes by the transport under test (eager threshold 0):
  shm    double copy through the shared ring (sender copies in, receiver copies out, pipelined)
  cma    rendezvous, then process_vm_readv: one call, single copy, no registration
  xpmem  rendezvous, then a copy out of an attachment of the peer's address space (attachment cache)
  rdma   HCA loopback, pinning adapter, registration cache fed by the mmu notifier

  --sizes MIN:MAX         message sizes, powers of two (default 1:16M)
  --pattern reuse|churn   one buffer per rank, or each rank frees and allocates its buffers before
                          every message (default reuse)
  --iterations N          at most N round trips per size (default 50; the first, cold, is reported apart)
  --cost hdr|edr|ndr|FILE cost model (default hdr)
  --out DIR               where intranode.svg and intranode.json go (default bench-results)
  --json                  print the cells as JSON instead of the table
  -h, --help              this text`;

const COLORS: Record<IntranodeTransport, string> = { shm: '#ff7f0e', cma: '#1f77b4', xpmem: '#2ca02c', rdma: '#d62728' };

interface Args {
  sizes: number[];
  pattern: IntranodePattern;
  iterations: number;
  cost: CostModel;
  out: string;
  json: boolean;
}

export async function intranodeCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const a = subcommandArgs(argv, parseArgs, INTRANODE_USAGE, 'intranode', io);
  if (typeof a === 'number') return a;
  const cells = await runIntranode({ sizes: a.sizes, cost: a.cost, pattern: a.pattern, maxIterations: a.iterations });
  mkdirSync(a.out, { recursive: true });
  const svgPath = join(a.out, 'intranode.svg');
  const jsonPath = join(a.out, 'intranode.json');
  writeFileSync(svgPath, intranodeChart(cells, a.pattern));
  const doc = { schema: 'tsmpi-bench-intranode/1', cost: a.cost, pattern: a.pattern, cells };
  writeFileSync(jsonPath, JSON.stringify(doc, null, 2) + '\n');
  if (a.json) io.out(JSON.stringify(doc, null, 2));
  else {
    io.out(intranodeTable(cells, a.pattern));
    io.out(shapeLines(cells).join('\n'));
    io.out(`\nchart: ${svgPath}\ncells: ${jsonPath}`);
  }
  const bad = cells.reduce((s, c) => s + c.bad, 0);
  if (bad > 0) {
    io.err(`tsmpi bench intranode: ${bad} bytes arrived wrong — a transport delivered stale or corrupt data`);
    return 1;
  }
  return 0;
}

function parseArgs(argv: readonly string[]): Args | 'help' {
  const a: Args = { sizes: sizeSweep(1, 16 * 1024 * 1024), pattern: 'reuse', iterations: 50, cost: presets.hdr, out: 'bench-results', json: false };
  for (const f of eachFlag(argv)) {
    switch (f.name) {
      case '-h': case '--help':
        return 'help';
      case '--sizes': {
        const [min, max] = parseSizeRange(f.value());
        a.sizes = sizeSweep(min, max);
        break;
      }
      case '--pattern': {
        const p = f.value();
        if (p !== 'reuse' && p !== 'churn') throw new BenchUsageError(`--pattern ${p}: use reuse or churn`);
        a.pattern = p;
        break;
      }
      case '--iterations': {
        a.iterations = f.count(2, ' (the first round trip is cold)');
        break;
      }
      case '--cost': {
        a.cost = costArg(f.value());
        break;
      }
      case '--out':
        a.out = f.value();
        break;
      case '--json':
        a.json = true;
        break;
      default:
        throw new BenchUsageError(`unknown option ${f.name}`);
    }
  }
  return a;
}

/** One row per size: µs per message for each transport, then MB/s, then which is fastest. */
export function intranodeTable(cells: readonly IntranodeCell[], pattern: IntranodePattern): string {
  const sizes = [...new Set(cells.map((c) => c.size))].sort((x, y) => x - y);
  const get = (t: IntranodeTransport, s: number) => cells.find((c) => c.transport === t && c.size === s);
  const ts = INTRANODE_TRANSPORTS.filter((t) => cells.some((c) => c.transport === t));
  const header = ['size', ...ts.map((t) => `${t} µs`), ...ts.map((t) => `${t} MB/s`), 'fastest', 'cma speed-up'];
  const rows = sizes.map((s) => {
    const here = ts.map((t) => get(t, s)!);
    const best = here.reduce((x, y) => (y.us < x.us ? y : x));
    const shm = get('shm', s);
    const cma = get('cma', s);
    return [
      formatSize(s),
      ...here.map((c) => fmtUs(c.us)),
      ...here.map((c) => fmtMBps(c.mbps)),
      best.transport,
      shm && cma ? `×${(shm.us / cma.us).toFixed(2)}` : '-',
    ];
  });
  return `intra-node transports, virtual µs one way (half a ping-pong round trip; pattern ${pattern}; the first, cold round trip excluded)\n` +
    textTable(header, rows, { leftColumns: 1 });
}

/** The published shape, checked on these cells: single copy loses small messages, wins large ones. */
export function shapeLines(cells: readonly IntranodeCell[]): string[] {
  const sizes = [...new Set(cells.map((c) => c.size))].sort((x, y) => x - y);
  const us = (t: IntranodeTransport, s: number) => cells.find((c) => c.transport === t && c.size === s)?.us;
  const lines: string[] = [];
  for (const single of ['cma', 'xpmem'] as const) {
    const wins = sizes.filter((s) => (us(single, s) ?? Infinity) < (us('shm', s) ?? -Infinity));
    const losesSmall = sizes.length > 0 && (us(single, sizes[0]!) ?? 0) > (us('shm', sizes[0]!) ?? Infinity);
    const firstWin = wins.find((s) => sizes.filter((x) => x >= s).every((x) => wins.includes(x)));
    lines.push(
      `${single} vs shm: ${losesSmall ? `loses at ${formatSize(sizes[0]!)}` : `does not lose at ${formatSize(sizes[0]!)}`}` +
        (firstWin !== undefined ? `, wins from ${formatSize(firstWin)} up` : ', never wins at the large end'),
    );
  }
  const ratios = sizes.map((s) => (us('shm', s) ?? NaN) / (us('cma', s) ?? NaN)).filter(Number.isFinite);
  if (ratios.length > 0) lines.push(`largest cma speed-up over shm: ×${Math.max(...ratios).toFixed(2)} (Vienne 2014 reports up to ×4)`);
  const bad = cells.reduce((s, c) => s + c.bad, 0);
  lines.push(bad === 0 ? 'every byte verified at the receiver: 0 wrong' : `${bad} bytes arrived WRONG`);
  return lines;
}

export function intranodeChart(cells: readonly IntranodeCell[], pattern: IntranodePattern): string {
  return lineChart({
    title: `Intra-node bandwidth by transport (pattern ${pattern})`,
    xLabel: 'message size',
    yLabel: 'MB/s (virtual time)',
    series: INTRANODE_TRANSPORTS.filter((t) => cells.some((c) => c.transport === t)).map((t) => ({
      name: t,
      color: COLORS[t],
      points: cells.filter((c) => c.transport === t).map((c) => ({ x: c.size, y: c.mbps, flagged: c.bad > 0 })),
    })),
  });
}
