/**
 * The terminal report: per suite × pattern, two tables.
 *
 *  time   size | pin-per-op µs | µs of each cached configuration | pin-per-op / cached ratios
 *  cache  size | stale deliveries, hit rate and registrations per message of each configuration
 *         | the simulator's own speed: wall-clock deliveries per second and ms per cell
 *
 * A µs cell of a configuration that delivered stale bytes carries a "!" — its time is for wrong data.
 */
import type { BenchRecord } from '../record.js';
import { formatSize } from '../sizes.js';
import { fmtPercent, fmtRate, fmtRatio, fmtUs } from './format.js';
import type { PatternGroup } from './group.js';
import { SUITE_TITLES, baselineOf, cellKey, groupRecords } from './group.js';
import { textTable } from './text-table.js';

function short(label: string): string {
  return label === 'odp×notifier' ? 'odp' : label.replace(/^pinning×/, '');
}

export function timeTable(g: PatternGroup): string {
  const base = baselineOf(g);
  const cached = g.configs.filter((c) => c.rcache !== 'off');
  const header = ['size', ...g.configs.map((c) => `${short(c.label)} µs`), ...(base ? cached.map((c) => `÷${short(c.label)}`) : [])];
  const rows = g.sizes.map((size) => {
    const row = [formatSize(size)];
    for (const c of g.configs) {
      const r = g.cell.get(cellKey(c.id, size));
      row.push(r ? fmtUs(r.latency_us) + (r.stale > 0 ? '!' : '') : '-');
    }
    if (base) {
      const b = g.cell.get(cellKey(base.id, size));
      for (const c of cached) {
        const r = g.cell.get(cellKey(c.id, size));
        row.push(b && r && r.latency_us > 0 ? fmtRatio(b.latency_us / r.latency_us) : '-');
      }
    }
    return row;
  });
  return (base ? 'virtual µs per message; ÷X = pin-per-op time ÷ X time\n' : '') + textTable(header, rows);
}

export function cacheTable(g: PatternGroup): string {
  const header = ['size', ...g.configs.map((c) => short(c.label)), 'msgs/s', 'ms/cell'];
  const rows = g.sizes.map((size) => {
    const recs = g.configs.map((c) => g.cell.get(cellKey(c.id, size)));
    const msgs = recs.reduce((a, r) => a + (r?.messages ?? 0), 0);
    const ms = recs.reduce((a, r) => a + (r?.wall_ms ?? 0), 0);
    const n = recs.filter((r) => r !== undefined).length;
    return [
      formatSize(size),
      ...recs.map((r, k) => {
        if (!r) return '-';
        const hit = g.configs[k]!.rcache === 'off' ? '-' : fmtPercent(r.hit_rate);
        return `${r.stale} ${hit.padStart(5)} ${r.registrations_per_message.toFixed(2).padStart(5)}`;
      }),
      ms > 0 ? fmtRate(msgs / (ms / 1000)) : '-',
      n > 0 ? (ms / n).toFixed(1) : '-',
    ];
  });
  return 'stale deliveries · hit rate · registrations per message; wall clock: deliveries/s, ms per cell\n' + textTable(header, rows);
}

/** One line per configuration that delivered stale bytes in the group, or a line saying none did. */
export function staleSummary(g: PatternGroup): string {
  const lines: string[] = [];
  for (const c of g.configs) {
    let stale = 0;
    let messages = 0;
    let safe = true;
    for (const size of g.sizes) {
      const r = g.cell.get(cellKey(c.id, size));
      if (!r) continue;
      stale += r.stale;
      messages += r.messages;
      safe = r.safe;
    }
    if (stale > 0) {
      const why = safe ? 'UNEXPECTED: this configuration is supposed to be safe here' : 'expected: the cache is not told of this change';
      lines.push(`  ${c.label}: ${stale} stale of ${messages} deliveries (${why})`);
    }
  }
  return lines.length > 0 ? `stale deliveries:\n${lines.join('\n')}` : 'stale deliveries: none (every byte verified)';
}

export function renderTerminalReport(records: readonly BenchRecord[]): string {
  const out: string[] = [];
  for (const g of groupRecords(records)) {
    const cost = g.cell.values().next().value?.cost ?? '';
    out.push(`■ ${SUITE_TITLES[g.suite]} · pattern ${g.pattern} · cost ${cost} · virtual clock`);
    out.push(timeTable(g));
    out.push('');
    out.push(cacheTable(g));
    out.push(staleSummary(g));
    out.push('');
  }
  return out.join('\n');
}
