import type { LoadedTrace } from './load.js';

/** Colours per category: the view's legend, and what the screenshot test looks for. */
export const CATEGORY_COLORS: Readonly<Record<string, string>> = {
  p2p: '#1f77b4', wait: '#ff7f0e', probe: '#9467bd', collective: '#2ca02c', compute: '#7f7f7f', registration: '#d62728', runtime: '#8c564b',
};
/** Geometry the page and its test share: a label column, then one row per rank. */
export const VIEW_LAYOUT = { labelPx: 120, rowPx: 28, barPx: 18, topPx: 24, widthPx: 1200 } as const;

/**
 * `tsmpi trace view`: one self-contained HTML page (inline data, script and SVG, nothing fetched)
 * with one row per rank; a time range to zoom to (typed, or the mouse wheel over the plot) and a
 * message-size range that keeps only the calls moving that many bytes.
 */
export function timelineHtml(t: LoadedTrace, title: string): string {
  const cats = Object.keys(CATEGORY_COLORS);
  const rows = t.ranks.map((r) => ({
    rank: r.rank,
    node: r.node,
    // [ts, dur, category, name, bytes (-1: none)]
    bars: r.slices.map((s) => [round(s.ts), round(s.dur), Math.max(0, cats.indexOf(s.cat)), s.name, typeof s.args.bytes === 'number' ? s.args.bytes : -1]),
  }));
  const end = Math.max(1, ...t.ranks.flatMap((r) => r.slices.map((s) => s.ts + s.dur)));
  const data = JSON.stringify({ rows, cats, colors: cats.map((c) => CATEGORY_COLORS[c]), end: round(end), layout: VIEW_LAYOUT, clock: t.clock }).replace(/</g, '\\u003c');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body{font:13px system-ui,sans-serif;margin:8px;background:#fff;color:#222}
#controls{margin-bottom:6px}#controls input{width:7em}
.legend span{display:inline-block;margin-right:10px}.legend i{display:inline-block;width:10px;height:10px;margin-right:3px;vertical-align:middle}
svg text{font:12px system-ui,sans-serif}
</style></head><body>
<div id="controls">time <input id="from" type="number"> to <input id="to" type="number"> µs
&nbsp; message bytes <input id="minb" type="number" placeholder="min"> to <input id="maxb" type="number" placeholder="max">
<button id="apply">apply</button> <button id="reset">reset</button> <span id="info"></span></div>
<div class="legend" id="legend"></div>
<svg id="timeline" xmlns="http://www.w3.org/2000/svg"></svg>
<script>
const D = ${data};
const L = D.layout, NS = 'http://www.w3.org/2000/svg';
const svg = document.getElementById('timeline');
let view = { from: 0, to: D.end, minb: -Infinity, maxb: Infinity };
document.getElementById('legend').innerHTML = D.cats.map((c, i) => '<span><i style="background:' + D.colors[i] + '"></i>' + c + '</span>').join('');
function el(name, attrs, text) { const e = document.createElementNS(NS, name); for (const k in attrs) e.setAttribute(k, attrs[k]); if (text !== undefined) e.textContent = text; return e; }
function render() {
  const plot = L.widthPx - L.labelPx - 10, scale = plot / Math.max(1e-9, view.to - view.from);
  svg.setAttribute('width', L.widthPx); svg.setAttribute('height', L.topPx + D.rows.length * L.rowPx + 10);
  svg.replaceChildren();
  svg.appendChild(el('text', { x: L.labelPx, y: 14 }, view.from.toFixed(1) + ' µs'));
  svg.appendChild(el('text', { x: L.widthPx - 10, y: 14, 'text-anchor': 'end' }, view.to.toFixed(1) + ' µs (' + D.clock + ')'));
  let shown = 0;
  D.rows.forEach((row, i) => {
    const y = L.topPx + i * L.rowPx, g = el('g', { class: 'row', 'data-rank': row.rank });
    g.appendChild(el('rect', { x: L.labelPx, y, width: plot, height: L.barPx, fill: '#f4f4f4' }));
    g.appendChild(el('text', { x: 4, y: y + 13 }, 'rank ' + row.rank + ' (node ' + row.node + ')'));
    for (const [ts, dur, c, name, bytes] of row.bars) {
      if (ts + dur < view.from || ts > view.to) continue;
      if (bytes >= 0 && (bytes < view.minb || bytes > view.maxb)) continue;
      if (bytes < 0 && (view.minb > -Infinity || view.maxb < Infinity) && D.cats[c] !== 'compute') continue;
      const x0 = Math.max(view.from, ts), x1 = Math.min(view.to, ts + dur);
      const nested = D.cats[c] === 'registration';
      const r = el('rect', { class: 'bar', 'data-cat': D.cats[c], x: L.labelPx + (x0 - view.from) * scale, y: nested ? y + L.barPx / 2 : y,
        width: Math.max(1, (x1 - x0) * scale), height: nested ? L.barPx / 2 : L.barPx, fill: D.colors[c] });
      r.appendChild(el('title', {}, name + ' ' + ts.toFixed(3) + ' µs +' + dur.toFixed(3) + (bytes >= 0 ? ' (' + bytes + ' B)' : '')));
      g.appendChild(r); shown++;
    }
    svg.appendChild(g);
  });
  svg.setAttribute('data-rows', D.rows.length); svg.setAttribute('data-bars', shown);
  document.getElementById('from').value = view.from.toFixed(3); document.getElementById('to').value = view.to.toFixed(3);
  document.getElementById('info').textContent = shown + ' bars';
}
const num = (id, d) => { const v = document.getElementById(id).value; return v === '' ? d : Number(v); };
document.getElementById('apply').onclick = () => { view = { from: num('from', 0), to: num('to', D.end), minb: num('minb', -Infinity), maxb: num('maxb', Infinity) }; if (view.to <= view.from) view.to = view.from + 1e-3; render(); };
document.getElementById('reset').onclick = () => { view = { from: 0, to: D.end, minb: -Infinity, maxb: Infinity }; document.getElementById('minb').value = ''; document.getElementById('maxb').value = ''; render(); };
svg.addEventListener('wheel', (ev) => {
  ev.preventDefault();
  const plot = L.widthPx - L.labelPx - 10, at = view.from + ((ev.offsetX - L.labelPx) / plot) * (view.to - view.from);
  const k = ev.deltaY > 0 ? 1.25 : 0.8;
  view.from = Math.max(0, at - (at - view.from) * k); view.to = Math.min(D.end, at + (view.to - at) * k); render();
});
render();
</script></body></html>
`;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
