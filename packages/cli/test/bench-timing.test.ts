/**
 * The study's figures are the same run after run with exact timing (the default): the bw churn cell
 * — a window of rendezvous messages from buffers freed and allocated again, through a cache that is
 * not told (stale deliveries) and one that is — five times, one JSON, wall-clock fields aside. A
 * `--timing fast` run says so in every output.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchCommand } from '../src/bench/index.js';
import type { BenchReport } from '../src/bench/record.js';

/** Fields that measure the host running the simulation, not the simulated machine. */
const WALL_CLOCK = ['wall_ms', 'msgs_per_s'] as const;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsmpi-bench-timing-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cell(name: string, extra: string[] = []): Promise<{ report: BenchReport; text: string; osu: string }> {
  const out = join(dir, name);
  let text = '';
  const io = { out: (s: string) => void (text += s + '\n'), err: (s: string) => void (text += s + '\n'), env: {} };
  const code = await benchCommand([
    'bw', '--config', 'pinning:none,pinning:notifier', '--pattern', 'churn', '--sizes', '128K:256K', '--iterations', '8',
    ...extra, '--out', out, '--no-progress',
  ], io);
  expect(code).toBe(0);
  const report = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as BenchReport;
  const osu = readFileSync(join(out, 'osu', readdirFirst(join(out, 'osu'))), 'utf8');
  return { report, text, osu };
}

function readdirFirst(path: string): string {
  return readdirSync(path).sort()[0]!;
}

const figures = (r: BenchReport) => r.records.map((rec) => {
  const copy: Record<string, unknown> = { ...rec };
  for (const k of WALL_CLOCK) delete copy[k];
  return copy;
});

describe('the study with exact timing', () => {
  it('gives the bw churn cell identically in five runs, stale deliveries included', async () => {
    const runs: Array<Record<string, unknown>[]> = [];
    for (let i = 0; i < 5; i++) runs.push(figures((await cell(`exact-${i}`)).report));
    expect(runs[0]!.length).toBeGreaterThan(0);
    // the cache that is not told delivers stale bytes under churn; the notifier none
    const stale = (config: string) => runs[0]!.filter((r) => r.config === config).reduce((a, r) => a + (r.stale as number), 0);
    expect(stale('pinning-none')).toBeGreaterThan(0);
    expect(stale('pinning-notifier')).toBe(0);
    for (const r of runs.slice(1)) expect(r).toEqual(runs[0]);
  });

  it('marks a --timing fast run in the JSON, the terminal and the OSU files', async () => {
    const exact = await cell('mark-exact');
    expect(exact.report.timing).toBe('exact');
    expect(exact.text).not.toMatch(/timing: fast/);
    const fast = await cell('mark-fast', ['--timing', 'fast']);
    expect(fast.report.timing).toBe('fast');
    expect(fast.text).toMatch(/timing: fast/);
    expect(fast.osu).toMatch(/timing fast/);
  });
});
