/**
 * Inline SVG charts with no dependencies: a line chart on log axes (size on log2, the value on
 * log10) and a grouped bar chart. Output is a standalone <svg> string, safe to inline in HTML or
 * to write as a .svg file.
 */
import { formatSize } from '../sizes.js';

export interface Point {
  x: number;
  y: number;
  /** Drawn as a red ring: e.g. a cell whose deliveries were stale. */
  flagged?: boolean;
}

export interface Series {
  name: string;
  color: string;
  points: Point[];
  dashed?: boolean;
}

export interface LineChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  width?: number;
  height?: number;
  /** Optional horizontal reference line (e.g. the link bandwidth). */
  reference?: { y: number; label: string };
}

const PALETTE: Record<string, string> = {
  'pinning-off': '#d62728',
  'pinning-none': '#7f7f7f',
  'pinning-hooks': '#ff7f0e',
  'pinning-notifier': '#1f77b4',
  'odp-notifier': '#2ca02c',
  'odp-off': '#98df8a',
  'odp-none': '#c7c7c7',
  'odp-hooks': '#ffbb78',
  'pinning-mlock-hooks': '#e377c2',
  'pinning-mlock-notifier': '#9467bd',
  'pinning-mlock-off': '#8c564b',
  'pinning-mlock-none': '#bcbd22',
};

export function colorOf(config: string): string {
  return PALETTE[config] ?? '#17becf';
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmtTick(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  if (v >= 1) return String(+v.toPrecision(3));
  return String(+v.toPrecision(2));
}

export function lineChart(spec: LineChartSpec): string {
  const W = spec.width ?? 640;
  const H = spec.height ?? 380;
  const m = { left: 70, right: 170, top: 36, bottom: 48 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const pts = spec.series.flatMap((s) => s.points).filter((p) => p.x > 0 && p.y > 0);
  const refY = spec.reference?.y;
  if (pts.length === 0) {
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><text x="20" y="40">${escapeXml(spec.title)}: no data</text></svg>`;
  }
  const xs = pts.map((p) => Math.log2(p.x));
  const ys = pts.map((p) => Math.log10(p.y)).concat(refY && refY > 0 ? [Math.log10(refY)] : []);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs, x0 + 1);
  const y0 = Math.floor(Math.min(...ys));
  const y1 = Math.max(Math.ceil(Math.max(...ys)), y0 + 1);
  const sx = (x: number): number => m.left + ((Math.log2(x) - x0) / (x1 - x0)) * pw;
  const sy = (y: number): number => m.top + ph - ((Math.log10(y) - y0) / (y1 - y0)) * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="system-ui, sans-serif" font-size="11">`);
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`);
  parts.push(`<text x="${m.left}" y="20" font-size="13" font-weight="600">${escapeXml(spec.title)}</text>`);
  // y grid: decades, with 2 and 5 as minor lines
  for (let d = y0; d <= y1; d++) {
    const v = 10 ** d;
    const y = sy(v);
    parts.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${m.left - 6}" y="${y + 4}" text-anchor="end">${fmtTick(v)}</text>`);
    if (d < y1) for (const k of [2, 5]) {
      const yy = sy(k * v);
      parts.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${yy}" y2="${yy}" stroke="#f1f1f1"/>`);
    }
  }
  // x grid: every power of two, labelled every other one when crowded
  const step = x1 - x0 > 12 ? 2 : 1;
  for (let e = Math.ceil(x0); e <= x1; e++) {
    const x = sx(2 ** e);
    parts.push(`<line x1="${x}" x2="${x}" y1="${m.top}" y2="${m.top + ph}" stroke="${(e - Math.ceil(x0)) % step === 0 ? '#ddd' : '#f3f3f3'}"/>`);
    if ((e - Math.ceil(x0)) % step === 0) parts.push(`<text x="${x}" y="${m.top + ph + 16}" text-anchor="middle">${formatSize(2 ** e)}</text>`);
  }
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  parts.push(`<text x="${m.left + pw / 2}" y="${H - 10}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(spec.yLabel)}</text>`);
  if (spec.reference && spec.reference.y > 0) {
    const y = sy(spec.reference.y);
    parts.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${y}" y2="${y}" stroke="#444" stroke-dasharray="2 3"/>`);
    parts.push(`<text x="${m.left + 4}" y="${y - 4}" fill="#444">${escapeXml(spec.reference.label)}</text>`);
  }
  spec.series.forEach((s, k) => {
    const p = s.points.filter((q) => q.x > 0 && q.y > 0);
    if (p.length > 0) {
      const d = p.map((q, i) => `${i === 0 ? 'M' : 'L'}${sx(q.x).toFixed(1)},${sy(q.y).toFixed(1)}`).join(' ');
      parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 3"' : ''}><title>${escapeXml(s.name)}</title></path>`);
      for (const q of p) {
        const cx = sx(q.x).toFixed(1);
        const cy = sy(q.y).toFixed(1);
        parts.push(`<circle cx="${cx}" cy="${cy}" r="2.5" fill="${s.color}"><title>${escapeXml(`${s.name}: ${formatSize(q.x)} → ${fmtTick(q.y)}`)}</title></circle>`);
        if (q.flagged) parts.push(`<circle cx="${cx}" cy="${cy}" r="6" fill="none" stroke="#e00" stroke-width="1.5"/>`);
      }
    }
    const ly = m.top + 8 + k * 18;
    const lx = m.left + pw + 12;
    parts.push(`<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 3"' : ''}/>`);
    parts.push(`<text x="${lx + 28}" y="${ly + 4}">${escapeXml(s.name)}</text>`);
  });
  if (spec.series.some((s) => s.points.some((q) => q.flagged))) {
    const ly = m.top + 8 + spec.series.length * 18;
    const lx = m.left + pw + 12;
    parts.push(`<circle cx="${lx + 11}" cy="${ly}" r="6" fill="none" stroke="#e00" stroke-width="1.5"/>`);
    parts.push(`<text x="${lx + 28}" y="${ly + 4}">stale deliveries</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}

export interface BarGroup {
  name: string;
  bars: { name: string; color: string; value: number; note?: string }[];
}

/** Grouped bars on a linear axis, each bar labelled with its value (a zero bar shows "0"). */
export function barChart(spec: { title: string; yLabel: string; groups: BarGroup[]; width?: number; height?: number }): string {
  const W = spec.width ?? 720;
  const H = spec.height ?? 320;
  const m = { left: 60, right: 170, top: 36, bottom: 40 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  // Integer ticks: four steps of a 1-2-5 size covering the largest bar.
  const top = Math.max(1, ...spec.groups.flatMap((g) => g.bars.map((b) => b.value)));
  const raw = top / 4;
  const mag = 10 ** Math.floor(Math.log10(Math.max(1, raw)));
  const tick = Math.max(1, [1, 2, 5, 10].map((k) => k * mag).find((t) => t >= raw) ?? 10 * mag);
  const max = tick * 4;
  const sy = (v: number): number => m.top + ph - (v / max) * ph;
  const gw = pw / Math.max(1, spec.groups.length);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="system-ui, sans-serif" font-size="11">`);
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`);
  parts.push(`<text x="${m.left}" y="20" font-size="13" font-weight="600">${escapeXml(spec.title)}</text>`);
  for (let k = 0; k <= 4; k++) {
    const v = tick * k;
    const y = sy(v);
    parts.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.left - 6}" y="${y + 4}" text-anchor="end">${Math.round(v)}</text>`);
  }
  parts.push(`<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(spec.yLabel)}</text>`);
  const legend = new Map<string, string>();
  spec.groups.forEach((g, gi) => {
    const n = Math.max(1, g.bars.length);
    const bw = Math.min(28, (gw * 0.8) / n);
    const gx = m.left + gi * gw + (gw - bw * n) / 2;
    g.bars.forEach((b, bi) => {
      legend.set(b.name, b.color);
      const x = gx + bi * bw;
      const y = sy(b.value);
      parts.push(`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(m.top + ph - y).toFixed(1)}" fill="${b.color}"><title>${escapeXml(`${g.name} · ${b.name}: ${b.value}${b.note ? ` (${b.note})` : ''}`)}</title></rect>`);
      parts.push(`<text x="${(x + bw / 2 - 1).toFixed(1)}" y="${(y - 3).toFixed(1)}" text-anchor="middle" font-size="10" fill="${b.value > 0 ? '#c00' : '#080'}">${b.value}</text>`);
    });
    parts.push(`<text x="${(m.left + gi * gw + gw / 2).toFixed(1)}" y="${m.top + ph + 16}" text-anchor="middle">${escapeXml(g.name)}</text>`);
  });
  parts.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${m.top + ph}" y2="${m.top + ph}" stroke="#888"/>`);
  [...legend].forEach(([name, color], k) => {
    const ly = m.top + 8 + k * 18;
    const lx = m.left + pw + 12;
    parts.push(`<rect x="${lx}" y="${ly - 6}" width="12" height="12" fill="${color}"/>`);
    parts.push(`<text x="${lx + 18}" y="${ly + 4}">${escapeXml(name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
