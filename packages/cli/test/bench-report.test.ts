import { describe, expect, it } from 'vitest';
import type { BenchRecord } from '../src/bench/record.js';
import { validateRecord, validateReport } from '../src/bench/record.js';
import { BenchSchemaError } from '../src/bench/errors.js';
import { osuText, osuBlocks, osuFileName } from '../src/bench/report/osu.js';
import { renderTerminalReport } from '../src/bench/report/table.js';
import { verdictOf } from '../src/bench/report/verdict.js';
import { renderHtml } from '../src/bench/report/html.js';
import { makeReport } from '../src/bench/report/json.js';
import { lineChart } from '../src/bench/report/svg.js';
import { recordsOfJob } from '../src/bench/records.js';
import { parseConfiguration } from '../src/bench/configs.js';
import type { JobSpec, RankSizeResult } from '../src/bench/job.js';

// Records as recordsOfJob builds them from two ranks' accounts: the report code is tested on
// records of the real shape, the numbers chosen so each rule of the report has something to show.
function job(config: string, pattern: JobSpec['pattern'], sizes: number[], perSize: (size: number) => Partial<RankSizeResult>): BenchRecord[] {
  const spec: JobSpec = { name: 't', suite: 'latency', pattern, steps: sizes.map((size) => ({ size, iterations: 10, warmup: 1, window: 1 })) };
  const rank = (r: number): RankSizeResult[] =>
    sizes.map((size) => ({
      rank: r, size, iterations: 10, warmup: 1, window: 1, elapsedUs: 100, messages: 11, stale: 0, staleBytes: 0,
      hits: 0, misses: 0, registrations: 0, invalidations: 0, odpFaults: 0, pagesMigrated: 0, wallMs: 5,
      timed: { hits: 0, misses: 0, registrations: 0, invalidations: 0, odpFaults: 0 }, ...perSize(size),
    }));
  return recordsOfJob(spec, parseConfiguration(config), 'hdr', [rank(0), rank(1)]);
}

const sizes = [4096, 1 << 20];
const records: BenchRecord[] = [
  ...job('pin-per-op', { kind: 'churn' }, sizes, (s) => ({ elapsedUs: s === 4096 ? 800 : 4000, registrations: 22 })),
  ...job('pinning:none', { kind: 'churn' }, sizes, (s) => ({ elapsedUs: s === 4096 ? 100 : 1600, hits: 10, misses: 1, registrations: 1, stale: s === 4096 ? 0 : 10, staleBytes: s === 4096 ? 0 : 10 * s })),
  ...job('pinning:notifier', { kind: 'churn' }, sizes, (s) => ({ elapsedUs: s === 4096 ? 100 : 2000, hits: s === 4096 ? 10 : 0, misses: s === 4096 ? 1 : 11, registrations: s === 4096 ? 1 : 11, invalidations: s === 4096 ? 0 : 10 })),
];

/** The record of configuration `config` (its id) at `size`, whatever the order records come in. */
function recordOf(config: string, size: number): BenchRecord {
  const r = records.find((x) => x.config === config && x.size === size);
  if (!r) throw new Error(`no record for ${config} at ${size} B`);
  return r;
}

describe('records of a job', () => {
  it('take latency as half of rank 0 round trip and sum counts over both ranks', () => {
    const ppo = recordOf('pinning-off', 1 << 20); // pin-per-op: 4000 µs over 10 round trips
    expect(ppo.latency_us).toBe(200);
    expect(ppo.bandwidth_MBps).toBeCloseTo((1 << 20) / 200);
    expect(ppo.messages).toBe(22);
    expect(ppo.registrations).toBe(44);
    expect(ppo.registrations_per_message).toBe(2);
    const none = recordOf('pinning-none', 1 << 20);
    expect(none.stale).toBe(20);
    expect(none.safe).toBe(false);
    expect(none.hit_rate).toBeCloseTo(20 / 22);
  });
  it('follow the schema, and the schema names what is wrong', () => {
    for (const r of records) validateRecord(r);
    validateReport(makeReport(records, 'test'));
    const good = recordOf('pinning-off', 4096);
    const bad = { ...good, stale: -1 };
    expect(() => validateRecord(bad)).toThrow(BenchSchemaError);
    expect(() => validateRecord(bad)).toThrow(/record\.stale must be a non-negative integer/);
    expect(() => validateRecord({ ...good, fabric: 'tcp' })).toThrow(/fabric is "tcp"/);
    expect(() => validateRecord({ ...good, extra: 1 })).toThrow(/extra/);
    const { wall_ms: _, ...missing } = good;
    expect(() => validateRecord(missing)).toThrow(/wall_ms/);
  });
});

describe('OSU text', () => {
  it('prints OSU header lines, size and value columns, and Fail for stale cells', () => {
    const blocks = osuBlocks(records);
    expect(blocks.length).toBe(3);
    const noneBlock = blocks.find((b) => b[0]!.config === 'pinning-none')!;
    expect(noneBlock.map((r) => r.size)).toEqual(sizes);
    const none = osuText(noneBlock);
    const lines = none.trimEnd().split('\n');
    expect(lines[0]).toBe('# OSU MPI Latency Test (tsmpi simulation)');
    expect(lines[3]).toMatch(/^# Size\s+Latency \(us\)\s+Validation$/);
    expect(lines[4]).toMatch(/^4096\s+5\.00\s+Pass$/);
    expect(lines[5]).toMatch(/^1048576\s+80\.00\s+Fail \(20 stale\)$/);
    expect(osuFileName(noneBlock[0]!)).toBe('osu_latency.pinning-none.churn.txt');
  });
});

describe('terminal tables and verdict', () => {
  it('shows the pin-per-op / cached ratio per size and marks stale cells', () => {
    const text = renderTerminalReport(records);
    expect(text).toContain('pattern churn');
    const row4k = text.split('\n').find((l) => l.startsWith('4K'))!;
    // pin-per-op 40 µs, none 5 µs, notifier 5 µs → ×8.00 twice
    expect(row4k.split(/\s+/)).toEqual(['4K', '40.00', '5.00', '5.00', '×8.00', '×8.00']);
    const row1m = text.split('\n').find((l) => l.startsWith('1M'))!;
    expect(row1m.split(/\s+/)).toEqual(['1M', '200.0', '80.00!', '100.0', '×2.50', '×2.00']);
    expect(text).toContain('pinning×none: 20 stale of 44 deliveries (expected: the cache is not told of this change)');
  });
  it('passes when only unsafe configurations were stale, fails when a safe one was', () => {
    expect(verdictOf(records).ok).toBe(true);
    const broken = records.map((r) => (r.config === 'pinning-notifier' && r.size === 4096 ? { ...r, stale: 1 } : r));
    const v = verdictOf(broken);
    expect(v.ok).toBe(false);
    expect(v.unsafeFailures.map((r) => `${r.config}@${r.size}`)).toEqual(['pinning-notifier@4096']);
    expect(v.text).toMatch(/^FAIL/);
  });
  it('fails when a job did not finish, and names it', () => {
    const v = verdictOf(records, [{ job: 'latency/pinning-none/churn', suite: 'latency', config: 'pinning×none', pattern: 'churn', message: 'rank 0 failed: TransferError\nstack' }]);
    expect(v.ok).toBe(false);
    expect(v.text.split('\n')).toContain('    latency/pinning-none/churn: rank 0 failed: TransferError');
  });
});

describe('charts and HTML', () => {
  it('draws log axes: decade ticks on y, power-of-two sizes on x', () => {
    const svg = lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 'a', color: '#000', points: [{ x: 1, y: 1 }, { x: 1 << 20, y: 20000, flagged: true }] }] });
    expect(svg.startsWith('<svg')).toBe(true);
    for (const tick of ['>1<', '>10<', '>100<', '>1k<', '>10k<', '>100k<', '>1M<', '>1K<']) expect(svg).toContain(tick);
    expect(svg).toContain('stale deliveries');
  });
  it('is one self-contained file: inline SVG, no script, no external reference', () => {
    const html = renderHtml(makeReport(records, 'tsmpi bench study'));
    expect(html).toMatch(/^<!doctype html>/);
    expect((html.match(/<svg /g) ?? []).length).toBe(4); // bandwidth, latency, ratio, stale
    expect(html).not.toMatch(/<script|src=|href=/);
    expect(html).toContain('pinning×none under churn (latency): 20 stale of 44 deliveries');
    expect(html).toContain('not protected');
  });
});
