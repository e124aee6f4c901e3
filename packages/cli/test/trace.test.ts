/**
 * Reading traces (issue 17): `tsmpi trace summary` splits each rank's time into compute,
 * communication and waiting that add up to its wtime(); `tsmpi trace view` writes a page that
 * headless Chromium renders with one row per rank and visible bars (the DOM it builds, and the
 * pixels of its screenshot). Chromium is required: the test fails when it is missing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runJob, type JobResult } from '@tsmpi/mpi';
import { main } from '../src/main.js';
import { CATEGORY_COLORS, VIEW_LAYOUT, loadTrace, summarize, timelineHtml } from '../src/trace/index.js';
import { readPng } from './trace-png.js';

const example = (name: string) => new URL(`../../../examples/${name}.ts`, import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'tsmpi-trace-cli-'));

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s), env: {} }, out, err };
}

/** Each rank's summary adds up to its wtime(), and each part equals what the rank's own stats say. */
function checkAddsUp(r: JobResult, file: string) {
  expect(r.exitCode, r.error?.message).toBe(0);
  const s = summarize(loadTrace(file));
  expect(s.ranks).toHaveLength(r.ranks.length);
  for (const x of s.ranks) {
    const rank = r.ranks[x.rank]!;
    const wtimeUs = rank.wtime! * 1e6;
    expect(x.computeUs + x.communicationUs + x.waitingUs).toBeCloseTo(wtimeUs, 6);
    expect(x.wtimeUs).toBeCloseTo(wtimeUs, 6);
    expect(x.computeUs).toBeCloseTo(rank.stats!.time.computeUs, 6);
    expect(x.communicationUs).toBeCloseTo(rank.stats!.time.communicationUs, 6);
    expect(x.waitingUs).toBeCloseTo(rank.stats!.time.waitingUs, 6);
  }
  return s;
}

describe('tsmpi trace summary', () => {
  it('splits ping-pong pin-per-op into parts that add up to each rank wtime(), with registration, largest messages and critical path', async () => {
    const file = join(dir, 'pp.json');
    const r = await runJob({ np: 2, nodes: 2, rcache: 'off', program: example('ping-pong'), captureOutput: true, trace: file });
    const s = checkAddsUp(r, file);
    for (const x of s.ranks) expect(x.registrationUs).toBeGreaterThan(0);
    expect(s.registrationShare).toBeGreaterThan(0);
    expect(s.registrationShare).toBeLessThan(1);
    expect(s.largest[0]).toMatchObject({ bytes: 2 * 1024 * 1024 });
    const end = Math.max(...r.ranks.map((x) => x.wtime! * 1e6));
    expect(s.criticalPathUs).toBeGreaterThan(0);
    expect(s.criticalPathUs).toBeLessThanOrEqual(end + 1e-6);
    // ping-pong is one chain of messages: its critical path runs the whole run
    expect(s.criticalPathUs).toBeCloseTo(end, 3);
  }, 60_000);

  it('counts the program own work (measured compute) and collectives, still adding up', async () => {
    const file = join(dir, 'heat.json');
    const r = await runJob({ np: 4, program: example('heat'), captureOutput: true, compute: 'measured', trace: file });
    const s = checkAddsUp(r, file);
    expect(s.ranks.every((x) => x.computeUs > 0)).toBe(true);
  }, 60_000);

  it('prints through the CLI, and names a file that is not a trace', async () => {
    const a = io();
    expect(await main(['trace', 'summary', join(dir, 'pp.json')], a.io)).toBe(0);
    expect(a.out.join('\n')).toMatch(/critical path: \d+\.\d+ us/);
    expect(a.out.join('\n')).toMatch(/registration share of the time in MPI calls: \d+\.\d%/);
    const bad = join(dir, 'not-a-trace.json');
    writeFileSync(bad, '{"events": []}');
    const b = io();
    expect(await main(['trace', 'summary', bad], b.io)).toBe(64);
    expect(b.err.join('\n')).toMatch(/has no traceEvents array/);
    const c = io();
    expect(await main(['trace', 'view', join(dir, 'pp.json')], c.io)).toBe(64);
    expect(c.err.join('\n')).toMatch(/-o timeline.html/);
  }, 60_000);
});

describe('tsmpi bench --trace DIR', () => {
  it('writes one trace per job, named for it, and report.html embeds the pin-per-op and notifier ping-pong timelines', async () => {
    const out = join(dir, 'bench-traces');
    const report = join(dir, 'bench-report');
    const a = io();
    const argv = ['bench', 'latency', '--sizes', '64K:64K', '--config', 'pin-per-op', '--config', 'pinning:notifier', '--no-progress', '--trace', out, '--out', report];
    expect(await main(argv, a.io), a.err.join('\n')).toBe(0);
    const files = readdirSync(out).sort();
    expect(files).toEqual(['latency_pinning-notifier_reuse.json', 'latency_pinning-off_reuse.json']);
    const pinPerOp = summarize(loadTrace(join(out, 'latency_pinning-off_reuse.json')));
    const cached = summarize(loadTrace(join(out, 'latency_pinning-notifier_reuse.json')));
    expect(pinPerOp.ranks).toHaveLength(2);
    expect(pinPerOp.largest[0]!.bytes).toBe(64 * 1024);
    // pin-per-op registers on every message; the cache registers once per buffer
    for (const r of [0, 1]) expect(pinPerOp.ranks[r]!.registrationUs).toBeGreaterThan(4 * cached.ranks[r]!.registrationUs);
    const html = readFileSync(join(report, 'report.html'), 'utf8');
    expect(html.match(/<iframe title="timeline"/g)).toHaveLength(2);
    expect(html).toMatch(/pin-per-op \(pinning × off\)/);
  }, 90_000);
});

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

function chromium(args: string[]): string {
  if (!CHROMIUM) throw new Error('headless Chromium is missing: apt-get install -y --no-install-recommends chromium (.ci/run installs it)');
  return execFileSync(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', ...args], { encoding: 'utf8', timeout: 90_000, stdio: ['ignore', 'pipe', 'ignore'] });
}

describe('tsmpi trace view', () => {
  it('renders in headless Chromium: one row per rank, each with bars of the categories colours', async () => {
    const file = join(dir, 'view.json');
    const r = await runJob({ np: 3, program: example('heat'), captureOutput: true, trace: file });
    expect(r.exitCode, r.error?.message).toBe(0);
    const page = join(dir, 'timeline.html');
    const a = io();
    expect(await main(['trace', 'view', file, '-o', page], a.io)).toBe(0);
    const html = readFileSync(page, 'utf8');
    expect(html).not.toMatch(/(src|href)=["']?https?:/); // self-contained: nothing fetched
    expect(html).toBe(timelineHtml(loadTrace(file), 'tsmpi timeline: view.json'));

    // the DOM the page's script builds
    const dom = chromium(['--dump-dom', `file://${page}`]);
    expect(dom).toMatch(/data-rows="3"/);
    const rows = dom.split('<g class="row"').slice(1);
    expect(rows).toHaveLength(3);
    rows.forEach((row, i) => {
      expect(row).toMatch(new RegExp(`^ data-rank="${i}"`));
      const widths = [...row.matchAll(/class="bar"[^>]*width="([\d.]+)"/g)].map((m) => Number(m[1]));
      expect(widths.length).toBeGreaterThan(0);
      expect(widths.every((w) => w > 0)).toBe(true);
    });

    // the pixels: bands of bar colours in the plot area, one per rank, each a bar high
    const shot = join(dir, 'timeline.png');
    chromium([`--window-size=${VIEW_LAYOUT.widthPx + 40},400`, `--screenshot=${shot}`, `file://${page}`]);
    const img = readPng(shot);
    const colours = Object.values(CATEGORY_COLORS).map((c) => [1, 3, 5].map((k) => parseInt(c.slice(k, k + 2), 16)));
    const isBar = (x: number, y: number) => {
      const p = img.pixel(x, y);
      return colours.some((c) => c.every((v, k) => Math.abs(v - p[k]!) <= 2));
    };
    const x0 = VIEW_LAYOUT.labelPx + 20;
    const barRows: number[] = [];
    for (let y = 0; y < img.height; y++) {
      let n = 0;
      for (let x = x0; x < Math.min(img.width, VIEW_LAYOUT.widthPx); x++) if (isBar(x, y)) n++;
      if (n > 20) barRows.push(y);
    }
    const bands: Array<[number, number]> = [];
    for (const y of barRows) {
      const last = bands[bands.length - 1];
      if (last && y === last[1] + 1) last[1] = y;
      else bands.push([y, y]);
    }
    // the legend's 10-px swatches form a thinner band above the plot: only bar-high bands are rows
    const rowBands = bands.filter(([from, to]) => to - from + 1 >= VIEW_LAYOUT.barPx - 2);
    expect(bands.length - rowBands.length).toBeLessThanOrEqual(1);
    expect(rowBands).toHaveLength(3);
    // rows are evenly spaced, one rank each
    expect(rowBands[1]![0] - rowBands[0]![0]).toBe(VIEW_LAYOUT.rowPx);
    expect(rowBands[2]![0] - rowBands[1]![0]).toBe(VIEW_LAYOUT.rowPx);
  }, 180_000);
});
