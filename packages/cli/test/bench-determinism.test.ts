/**
 * Issue 14: the study is deterministic. Two short runs of `tsmpi bench study` with the same flags
 * (every study configuration, pipeline and the fork case included) write the same JSON, once the
 * wall-clock fields (created, host, wall_ms, msgs_per_s) are set aside.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchCommand } from '../src/bench/index.js';
import type { BenchReport } from '../src/bench/record.js';

const quiet = { out: () => {}, err: () => {}, env: {} };
const dir = mkdtempSync(join(tmpdir(), 'tsmpi-bench-determinism-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const WALL_CLOCK = new Set(['created', 'host', 'wall_ms', 'msgs_per_s']);

function withoutWallClock(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutWallClock);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).filter(([k]) => !WALL_CLOCK.has(k)).map(([k, x]) => [k, withoutWallClock(x)]));
}

// both runs write the same file (the command line, which names it, is part of the JSON)
async function study(): Promise<BenchReport> {
  const json = join(dir, 'results.json');
  const code = await benchCommand(
    ['study', 'latency', '--sizes', '16K:2M', '--iterations', '4', '--pattern', 'reuse,churn,fork:2', '--json', json, '--no-progress', '--no-migration'],
    quiet,
  );
  const report = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
  expect(report.failures).toEqual([]); // a failed job names itself here before the exit status says 1
  expect(code).toBe(0);
  return report;
}

describe('the study, run twice', () => {
  it('writes the same JSON, wall-clock fields aside', async () => {
    const a = await study();
    const b = await study();
    // 6 configurations × 3 patterns × 8 sizes (16K .. 2M): pipeline and fork are in it
    expect(a.records.length).toBe(6 * 3 * 8);
    expect(new Set(a.records.map((r) => r.label))).toContain('pipeline');
    expect(a.records.filter((r) => r.pattern === 'fork:2' && r.stale > 0).length).toBeGreaterThan(0);
    expect(withoutWallClock(b)).toEqual(withoutWallClock(a));
    // and the part set aside is only the wall clock: the records differ in nothing else
    expect(a.records.every((r) => typeof r.wall_ms === 'number')).toBe(true);
  }, 900_000);
});
