/**
 * One self-contained HTML file: the verdict, the charts (inline SVG), the tables and a note on how
 * to read them. No scripts (but inside the timelines `--trace` embeds), no external assets: it opens from disk anywhere.
 */
import { timelineFrame, type EmbeddedTimeline } from '../../trace/index.js';
import type { BenchReport } from '../record.js';
import { chartsOf } from './charts.js';
import { groupRecords, SUITE_TITLES } from './group.js';
import { escapeXml } from './svg.js';
import { cacheTable, staleSummary, timeTable } from './table.js';
import { verdictOf } from './verdict.js';

const READING = `
<p>Every figure is on the <b>virtual clock</b>: the cost model prices each step (per-message overhead, wire
latency and bandwidth, registration = a fixed part + a per-page part, deregistration, ODP page faults,
notifier drains), so runs are deterministic and comparable; wall-clock figures are the simulator's own speed.
<b>pin-per-op</b> registers and deregisters the user buffer around every rendezvous message; the cached
configurations keep registrations in a registration cache told of changes by nothing (<i>none</i>), by
intercepted library calls (<i>hooks</i>), or by the mmu-notifier channel (<i>notifier</i>); <i>odp</i> pins
nothing and translates on demand. Messages below the eager threshold are copied through pre-registered
bounce buffers, so every configuration costs the same there. Every delivery was checked byte for byte
against what the sender's memory held at send time; a red ring marks a cell with stale deliveries, whose
speed is for wrong data.</p>
<p>Patterns: <i>reuse</i> is OSU's single buffer (every cache hits); <i>rotate:N</i> cycles through more
buffers than the cache holds (every lookup misses, the cache only adds work); <i>churn</i> frees and
allocates the buffer every iteration — from 128 KiB up the allocator munmaps it and the next mmap lands at
the same address on new pages, which a cache that was not told registers nothing for and reads the old
pages through; <i>migrate:K</i> moves the locked (mlocked, not pinned) pages every K iterations, which
library-call hooks never see.</p>`;

export function renderHtml(report: BenchReport, opts: { linkMBps?: number; shapes?: string[]; timelines?: EmbeddedTimeline[] } = {}): string {
  const charts = chartsOf(report.records, opts.linkMBps ? { linkMBps: opts.linkMBps } : {});
  const verdict = verdictOf(report.records, report.failures);
  const groups = groupRecords(report.records);
  const body: string[] = [];
  body.push(`<h1>tsmpi: pin-per-op vs cached registration</h1>`);
  if (report.timing === 'fast') body.push(`<p><strong>timing: fast</strong> — ranks were not synchronised in virtual time; figures may differ from run to run.</p>`);
  body.push(`<p class="meta">${escapeXml(report.command)} · ${escapeXml(report.created)} · node ${escapeXml(report.host.node)}, ${report.host.cpus} CPUs · ${report.records.length} cells</p>`);
  body.push(`<div class="verdict ${verdict.ok ? 'ok' : 'bad'}"><pre>${escapeXml(verdict.text)}</pre></div>`);
  if (opts.shapes && opts.shapes.length > 0) {
    body.push(`<h3>Published shapes, as modeled</h3><pre>${escapeXml(opts.shapes.join('\n'))}</pre>`);
  }
  body.push(READING);
  if (opts.timelines && opts.timelines.length > 0) {
    body.push('<h2>Timelines (tsmpi bench --trace)</h2><p>One row per rank on the virtual clock; red strips are registrations.</p>');
    for (const t of opts.timelines) body.push(timelineFrame(t));
  }
  const stale = charts.filter((c) => c.name.startsWith('stale.'));
  for (const c of stale) body.push(`<figure>${c.svg}</figure>`);
  for (const g of groups) {
    const slug = `${g.suite}.${g.pattern.replace(':', '-')}`;
    body.push(`<h2>${escapeXml(SUITE_TITLES[g.suite])} · pattern ${escapeXml(g.pattern)}</h2>`);
    body.push('<div class="row">');
    for (const c of charts.filter((c) => c.name.endsWith(`.${slug}`))) body.push(`<figure>${c.svg}</figure>`);
    body.push('</div>');
    body.push(`<pre>${escapeXml(timeTable(g))}\n\n${escapeXml(cacheTable(g))}\n${escapeXml(staleSummary(g))}</pre>`);
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tsmpi registration study</title>
<style>
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; max-width: 1400px; }
pre { font-size: 12px; background: #f7f7f7; padding: 8px; overflow-x: auto; }
figure { margin: 8px; display: inline-block; }
.row { display: flex; flex-wrap: wrap; }
.verdict.ok { border-left: 6px solid #2a2; padding-left: 8px; }
.verdict.bad { border-left: 6px solid #d22; padding-left: 8px; }
.meta { color: #666; }
</style></head><body>
${body.join('\n')}
</body></html>
`;
}
