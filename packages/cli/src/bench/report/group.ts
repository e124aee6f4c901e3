/** Grouping of records for the reports: suite → pattern → size → configuration. */
import type { BenchRecord, Suite } from '../record.js';

export interface PatternGroup {
  suite: Suite;
  pattern: string;
  /** Configuration ids in the order they were first seen (pin-per-op first when present). */
  configs: { id: string; label: string; rcache: BenchRecord['rcache'] }[];
  sizes: number[];
  /** `${config}@${size}` → record */
  cell: Map<string, BenchRecord>;
}

export function cellKey(config: string, size: number): string {
  return `${config}@${size}`;
}

export function groupRecords(records: readonly BenchRecord[]): PatternGroup[] {
  const groups = new Map<string, PatternGroup>();
  for (const r of records) {
    const key = `${r.suite}/${r.pattern}`;
    let g = groups.get(key);
    if (!g) {
      g = { suite: r.suite, pattern: r.pattern, configs: [], sizes: [], cell: new Map() };
      groups.set(key, g);
    }
    if (!g.configs.some((c) => c.id === r.config)) g.configs.push({ id: r.config, label: r.label, rcache: r.rcache });
    if (!g.sizes.includes(r.size)) g.sizes.push(r.size);
    g.cell.set(cellKey(r.config, r.size), r);
  }
  for (const g of groups.values()) {
    g.sizes.sort((a, b) => a - b);
    g.configs.sort((a, b) => Number(b.rcache === 'off') - Number(a.rcache === 'off'));
  }
  return [...groups.values()];
}

/** The pin-per-op configuration of a group (rcache off), if it ran. */
export function baselineOf(g: PatternGroup): PatternGroup['configs'][number] | undefined {
  return g.configs.find((c) => c.rcache === 'off');
}

export const SUITE_TITLES: Record<Suite, string> = {
  latency: 'latency (ping-pong, one-way µs)',
  bw: 'bandwidth (window of isends + ack, µs per message)',
  bibw: 'bi-directional bandwidth (µs per message)',
  allreduce: 'allreduce (MAX, Uint8, avg µs per call)',
};
