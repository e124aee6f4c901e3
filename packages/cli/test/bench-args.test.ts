import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../src/bench/args.js';
import { BenchUsageError } from '../src/bench/errors.js';
import { parsePattern, formatPattern } from '../src/bench/patterns.js';
import { isSafe, parseConfiguration, STUDY_CONFIGS } from '../src/bench/configs.js';
import { iterationCounts, parseSizeRange, sizeSweep, formatSize } from '../src/bench/sizes.js';
import { planJobs, stepsFor } from '../src/bench/plan.js';

describe('size sweep', () => {
  it('is OSU powers of two from 1 B to 16 MiB: 25 sizes', () => {
    const s = sizeSweep(1, 16 * 1024 * 1024);
    expect(s.length).toBe(25);
    expect(s[0]).toBe(1);
    expect(s[24]).toBe(16 * 1024 * 1024);
  });
  it('reads MIN:MAX with binary units and open ends', () => {
    expect(parseSizeRange('4K:1M')).toEqual([4096, 1048576]);
    expect(parseSizeRange(':64K')).toEqual([1, 65536]);
    expect(parseSizeRange('1M:')).toEqual([1048576, 16 * 1048576]);
    expect(() => parseSizeRange('64K:4K')).toThrow(BenchUsageError);
    expect(() => parseSizeRange('1:32M')).toThrow(/16M/);
    expect(() => parseSizeRange('4Q:8K')).toThrow(/not a size/);
  });
  it('formats sizes the short way', () => {
    expect([1, 1024, 65536, 1048576, 16777216, 1500].map(formatSize)).toEqual(['1', '1K', '64K', '1M', '16M', '1500']);
  });
  it('drops iterations at OSU LARGE_MESSAGE_SIZE and keeps iterations × size under the budget', () => {
    expect(iterationCounts(4096, 1000, 1 << 30)).toEqual({ iterations: 1000, warmup: 100 });
    expect(iterationCounts(8192, 1000, 1 << 30)).toEqual({ iterations: 100, warmup: 10 });
    expect(iterationCounts(16 << 20, 1000, 64 << 20)).toEqual({ iterations: 4, warmup: 2 });
    // never below the floor of 2 timed iterations
    expect(iterationCounts(16 << 20, 1000, 1 << 20)).toEqual({ iterations: 2, warmup: 2 });
    // never below OSU's smallest skip of 2 warm-up iterations (a merged region settles in the second)
    expect(iterationCounts(65536, 100, 16 << 20)).toEqual({ iterations: 10, warmup: 2 });
  });
});

describe('patterns and configurations', () => {
  it('parses every pattern and prints it back', () => {
    for (const t of ['reuse', 'churn', 'rotate:16', 'migrate:4', 'fork:3']) expect(formatPattern(parsePattern(t))).toBe(t);
    expect(parsePattern('fork')).toEqual({ kind: 'fork', every: 2 });
    expect(parsePattern('rotate')).toEqual({ kind: 'rotate', buffers: 16 });
    expect(() => parsePattern('rotate:0')).toThrow(/positive integer/);
    expect(() => parsePattern('shuffle')).toThrow(/unknown/);
  });
  it('names configurations the way the tables print them', () => {
    expect(STUDY_CONFIGS.map((c) => c.label)).toEqual(['pin-per-op', 'pipeline', 'pinning×none', 'pinning×hooks', 'pinning×notifier', 'odp×notifier']);
    expect(parseConfiguration('pipeline')).toMatchObject({ id: 'pinning-off-pipeline', rcache: 'off', rndv: 'pipeline' });
    expect(parseConfiguration('pinning-off-pipeline').label).toBe('pipeline');
    expect(parseConfiguration('pinning:notifier:pipeline')).toMatchObject({ id: 'pinning-notifier-pipeline', label: 'pinning×notifier+pipeline' });
    expect(parseConfiguration('pin-per-op').rndv).toBe('whole');
    expect(parseConfiguration('mlock:hooks')).toMatchObject({ id: 'pinning-mlock-hooks', fabric: 'pinning', pinMode: 'mlock', rcache: 'hooks' });
    expect(parseConfiguration('pin-per-op').id).toBe('pinning-off');
    expect(() => parseConfiguration('pinning')).toThrow(/needs a fabric and a policy/);
  });
  it('calls none unsafe everywhere and hooks unsafe only under migration', () => {
    const none = parseConfiguration('pinning:none');
    const hooks = parseConfiguration('mlock:hooks');
    const notifier = parseConfiguration('mlock:notifier');
    expect(isSafe(none, { kind: 'reuse' })).toBe(false);
    expect(isSafe(hooks, { kind: 'churn' })).toBe(true);
    expect(isSafe(hooks, { kind: 'migrate', every: 4 })).toBe(false);
    expect(isSafe(notifier, { kind: 'migrate', every: 4 })).toBe(true);
    // the copy-on-write fault after fork is the kernel's: hooks do not hear it, the notifier does
    expect(isSafe(hooks, { kind: 'fork', every: 2 })).toBe(false);
    expect(isSafe(notifier, { kind: 'fork', every: 2 })).toBe(true);
    expect(isSafe(parseConfiguration('pipeline'), { kind: 'fork', every: 2 })).toBe(true);
  });
});

describe('tsmpi bench arguments', () => {
  it('study: six configurations × reuse, rotate beyond the cache, churn, fork, plus the migration case', () => {
    const o = parseBenchArgs(['study']);
    expect(o.study).toBe(true);
    expect(o.configs.length).toBe(6);
    expect(o.patterns.map(formatPattern)).toEqual(['reuse', `rotate:${o.maxRegions + 2}`, 'churn', 'fork:2']);
    expect(o.migration).toBe(true);
    expect(o.out).toBe('tsmpi-study');
    const jobs = planJobs(o);
    expect(o.suites).toEqual(['latency', 'bw']);
    // the non-contiguous case last: latency, strided:pack then strided:sge, every configuration but pipeline
    expect(o.noncontig).toBe(true);
    expect(jobs.length).toBe(2 * (6 * 4 + 2) + 2 * 5);
    expect(jobs.slice(-10).map((j) => j.spec.name)).toEqual(['pack', 'sge'].flatMap((m) =>
      ['pinning-off', 'pinning-none', 'pinning-hooks', 'pinning-notifier', 'odp-notifier'].map((c) => `latency/${c}/strided:${m}`)));
    expect(planJobs(parseBenchArgs(['study', '--no-noncontig'])).length).toBe(2 * (6 * 4 + 2));
    expect(formatPattern(parsePattern('strided:sge'))).toBe('strided:sge');
    expect(() => parsePattern('strided:zz')).toThrow(/strided takes pack or sge/);
    expect(() => parseBenchArgs(['bw', '--pattern', 'strided:sge'])).toThrow(/latency suite only/);
    expect(parseBenchArgs(['--pattern', 'strided:sge']).suites).toEqual(['latency']);
    expect(jobs.filter((j) => j.spec.pattern.kind === 'migrate').map((j) => j.spec.name)).toEqual([
      'latency/pinning-mlock-hooks/migrate:2', 'latency/pinning-mlock-notifier/migrate:2',
      'bw/pinning-mlock-hooks/migrate:2', 'bw/pinning-mlock-notifier/migrate:2',
    ]);
  });
  it('crosses --fabric with --rcache and takes suites, comma lists and --flag=value', () => {
    const o = parseBenchArgs(['bw', 'latency', '--fabric', 'pinning,odp', '--rcache=off,notifier', '--pattern', 'churn,rotate:4', '--sizes', '4K:64K']);
    expect(o.suites).toEqual(['bw', 'latency']);
    expect(o.configs.map((c) => c.id)).toEqual(['pinning-off', 'pinning-notifier', 'odp-off', 'odp-notifier']);
    expect(o.patterns.map(formatPattern)).toEqual(['churn', 'rotate:4']);
    expect(o.sizes).toEqual([4096, 65536]);
    expect(o.out).toBeUndefined();
  });
  it('rejects unknown words and flags without values, naming them', () => {
    expect(() => parseBenchArgs(['pingpong'])).toThrow(/unknown argument "pingpong"/);
    expect(() => parseBenchArgs(['--sizes'])).toThrow(/--sizes needs a value/);
    expect(() => parseBenchArgs(['--rcache', 'lru'])).toThrow(/--rcache lru/);
    expect(() => parseBenchArgs(['--iterations', '0'])).toThrow(/positive integer/);
  });
  it('shrinks the bw window at large sizes so a window fits the window budget', () => {
    const o = parseBenchArgs(['bw', '--sizes', '1M:16M']);
    const steps = stepsFor('bw', o);
    expect(steps.map((s) => s.window)).toEqual([32, 16, 8, 4, 2]);
    expect(stepsFor('latency', o).every((s) => s.window === 1)).toBe(true);
  });
});
