/**
 * The study's charts, built from records: bandwidth and latency against size per configuration
 * (log axes), the pin-per-op / cached ratio, and stale deliveries per configuration and pattern.
 */
import type { BenchRecord } from '../record.js';
import type { PatternGroup } from './group.js';
import { baselineOf, cellKey, groupRecords } from './group.js';
import { barChart, colorOf, lineChart } from './svg.js';

export interface NamedChart {
  /** File stem: "bandwidth.latency.churn". */
  name: string;
  title: string;
  svg: string;
}

function seriesOf(g: PatternGroup, value: (r: BenchRecord) => number) {
  return g.configs.map((c) => ({
    name: c.label,
    color: colorOf(c.id),
    dashed: c.id.includes('mlock'),
    points: g.sizes.flatMap((size) => {
      const r = g.cell.get(cellKey(c.id, size));
      return r ? [{ x: size, y: value(r), flagged: r.stale > 0 }] : [];
    }),
  }));
}

export function chartsOf(records: readonly BenchRecord[], opts: { linkMBps?: number } = {}): NamedChart[] {
  const charts: NamedChart[] = [];
  const groups = groupRecords(records);
  for (const g of groups) {
    const slug = `${g.suite}.${g.pattern.replace(':', '-')}`;
    const bwTitle = `${g.suite}: bandwidth vs size, pattern ${g.pattern} (virtual clock)`;
    charts.push({
      name: `bandwidth.${slug}`,
      title: bwTitle,
      svg: lineChart({
        title: bwTitle,
        xLabel: 'message size (bytes, log₂)',
        yLabel: 'MB/s (log)',
        series: seriesOf(g, (r) => r.bandwidth_MBps),
        ...(opts.linkMBps ? { reference: { y: opts.linkMBps, label: `link ${Math.round(opts.linkMBps)} MB/s` } } : {}),
      }),
    });
    const latTitle = `${g.suite}: µs per message vs size, pattern ${g.pattern}`;
    charts.push({
      name: `latency.${slug}`,
      title: latTitle,
      svg: lineChart({ title: latTitle, xLabel: 'message size (bytes, log₂)', yLabel: 'µs (log)', series: seriesOf(g, (r) => r.latency_us) }),
    });
    const base = baselineOf(g);
    if (base) {
      const ratioTitle = `${g.suite}: pin-per-op ÷ cached time, pattern ${g.pattern}`;
      const series = g.configs
        .filter((c) => c.rcache !== 'off')
        .map((c) => ({
          name: c.label,
          color: colorOf(c.id),
          dashed: c.id.includes('mlock'),
          points: g.sizes.flatMap((size) => {
            const b = g.cell.get(cellKey(base.id, size));
            const r = g.cell.get(cellKey(c.id, size));
            return b && r && r.latency_us > 0 ? [{ x: size, y: b.latency_us / r.latency_us, flagged: r.stale > 0 }] : [];
          }),
        }));
      charts.push({
        name: `ratio.${slug}`,
        title: ratioTitle,
        svg: lineChart({ title: ratioTitle, xLabel: 'message size (bytes, log₂)', yLabel: 'pin-per-op ÷ cached (log)', series, reference: { y: 1, label: 'equal' } }),
      });
    }
  }
  // Stale deliveries: one group per suite × pattern, one bar per configuration.
  const suites = [...new Set(groups.map((g) => g.suite))];
  for (const suite of suites) {
    const title = `${suite}: stale deliveries per configuration and pattern (all sizes)`;
    charts.push({
      name: `stale.${suite}`,
      title,
      svg: barChart({
        title,
        yLabel: 'stale deliveries',
        groups: groups
          .filter((g) => g.suite === suite)
          .map((g) => ({
            name: g.pattern,
            bars: g.configs.map((c) => {
              let stale = 0;
              let messages = 0;
              for (const size of g.sizes) {
                const r = g.cell.get(cellKey(c.id, size));
                stale += r?.stale ?? 0;
                messages += r?.messages ?? 0;
              }
              return { name: c.label, color: colorOf(c.id), value: stale, note: `of ${messages} deliveries` };
            }),
          })),
      }),
    });
  }
  return charts;
}
