/**
 * OSU Micro-Benchmarks' text output, one block per suite × configuration × pattern, on the virtual
 * clock. The header lines and columns follow OSU 7's (`# OSU MPI Latency Test`, `# Size`,
 * 10-column size, 18-column value with two decimals) with the Validation column OSU prints under
 * -c; comment lines name the simulated configuration.
 */
import type { BenchRecord, Suite } from '../record.js';

const TITLE: Record<Suite, [string, string]> = {
  latency: ['# OSU MPI Latency Test', 'Latency (us)'],
  bw: ['# OSU MPI Bandwidth Test', 'Bandwidth (MB/s)'],
  bibw: ['# OSU MPI Bi-Directional Bandwidth Test', 'Bandwidth (MB/s)'],
  allreduce: ['# OSU MPI Allreduce Latency Test', 'Avg Latency(us)'],
};

const FIELD = 18;

export function osuText(records: readonly BenchRecord[], timing: 'exact' | 'fast' = 'exact'): string {
  const first = records[0];
  if (!first) return '';
  const [title, column] = TITLE[first.suite];
  const lines = [
    `${title} (tsmpi simulation)`,
    `# configuration: ${first.label} (fabric ${first.fabric}, rcache ${first.rcache}, pin mode ${first.pin_mode})`,
    `# pattern: ${first.pattern}; cost model: ${first.cost}; times on the virtual clock` +
      (timing === 'fast' ? ' (timing fast: ranks not synchronised, may differ between runs)' : ''),
    `${'# Size'.padEnd(10)}${column.padStart(FIELD)}${'Validation'.padStart(FIELD)}`,
  ];
  for (const r of records) {
    const value = r.suite === 'bw' || r.suite === 'bibw' ? r.bandwidth_MBps : r.latency_us;
    const validation = r.stale === 0 ? 'Pass' : `Fail (${r.stale} stale)`;
    lines.push(`${String(r.size).padEnd(10)}${value.toFixed(2).padStart(FIELD)}${validation.padStart(FIELD)}`);
  }
  return lines.join('\n') + '\n';
}

/** File name for one block: "osu_latency.pinning-notifier.reuse.txt". */
export function osuFileName(r: Pick<BenchRecord, 'suite' | 'config' | 'pattern'>): string {
  return `osu_${r.suite}.${r.config}.${r.pattern.replace(':', '-')}.txt`;
}

/** Splits records into OSU blocks (suite × config × pattern), in first-seen order. */
export function osuBlocks(records: readonly BenchRecord[]): BenchRecord[][] {
  const blocks = new Map<string, BenchRecord[]>();
  for (const r of records) {
    const k = `${r.suite}|${r.config}|${r.pattern}`;
    let b = blocks.get(k);
    if (!b) blocks.set(k, (b = []));
    b.push(r);
  }
  return [...blocks.values()].map((b) => b.sort((x, y) => x.size - y.size));
}
