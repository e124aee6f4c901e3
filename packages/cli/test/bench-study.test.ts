/**
 * A small study on the real runtime (2 ranks per job, every configuration and pattern, few sizes,
 * few iterations), checked through its JSON: the schema, who may deliver stale bytes and who may
 * not, and pin-per-op against the caches.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_OPTIONS } from '@tsmpi/mpi';
import { benchCommand } from '../src/bench/index.js';
import type { BenchRecord, BenchReport } from '../src/bench/record.js';
import { validateReport } from '../src/bench/record.js';

// The rotate pattern needs the cache's region limit and the migration case the adapter's pin mode
// from runJob; until @tsmpi/mpi has both options those two parts cannot run (the bench refuses them
// rather than run another configuration under their name).
const runtime = DEFAULT_OPTIONS as unknown as Record<string, unknown>;
const canRotate = 'rcacheMaxRegions' in runtime;
const canMigrate = 'pinMode' in runtime;

const quiet = { out: () => {}, err: () => {}, env: {} };
let dir: string;

async function study(name: string, args: string[]): Promise<{ code: number; report: BenchReport }> {
  const out = join(dir, name);
  const code = await benchCommand([...args, '--out', out, '--no-progress'], quiet);
  return { code, report: JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as BenchReport };
}

const sum = (rs: BenchRecord[], f: (r: BenchRecord) => number): number => rs.reduce((a, r) => a + f(r), 0);

// One size from the allocator's mmap threshold up (256K: churn puts new frames under the same
// address), every configuration and pattern; then a reuse sweep across the eager/rendezvous
// threshold for the pin-per-op comparison.
let cells: BenchReport;
let cellsCode: number;
let sweep: BenchReport;
let sweepCode: number;
const of = (config: string, pattern: string): BenchRecord[] =>
  cells.records.filter((r) => r.config === config && r.pattern.startsWith(pattern));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsmpi-bench-study-'));
  const patterns = ['reuse', 'churn', 'fork:2', ...(canRotate ? ['rotate:4'] : [])].join(',');
  ({ code: cellsCode, report: cells } = await study('cells', [
    'study', 'latency', '--sizes', '256K:256K', '--iterations', '8', '--max-regions', '2', '--pattern', patterns,
  ]));
  if (canMigrate) {
    const m = await study('migrate', ['latency', '--config', 'mlock:hooks,mlock:notifier', '--pattern', 'migrate:2', '--sizes', '256K:256K', '--iterations', '8']);
    cells.records.push(...m.report.records);
    cellsCode ||= m.code;
  }
  ({ code: sweepCode, report: sweep } = await study('sweep', [
    'latency', '--config', 'pin-per-op,pinning:none,pinning:hooks,pinning:notifier,odp:notifier', '--pattern', 'reuse', '--sizes', '4K:1M', '--iterations', '10',
  ]));
  return () => rmSync(dir, { recursive: true, force: true });
}, 600_000);

describe('the study, small', () => {
  it('finishes every job and writes the JSON, the HTML report, OSU text and charts', () => {
    expect(cells.failures).toEqual([]);
    expect(sweep.failures).toEqual([]);
    expect(cellsCode).toBe(0);
    expect(sweepCode).toBe(0);
    expect(existsSync(join(dir, 'cells', 'report.html'))).toBe(true);
    expect(existsSync(join(dir, 'cells', 'osu', 'osu_latency.pinning-off.churn.txt'))).toBe(true);
    expect(existsSync(join(dir, 'sweep', 'charts', 'bandwidth.latency.reuse.svg'))).toBe(true);
  });

  it('follows the schema: one record per configuration × pattern × size, every delivery counted', () => {
    validateReport(cells);
    validateReport(sweep);
    const patterns = 3 + (canRotate ? 1 : 0);
    expect(cells.records.length).toBe(6 * patterns + (canMigrate ? 2 : 0));
    expect(sweep.records.length).toBe(5 * 9); // 4K .. 1M
    for (const r of [...cells.records, ...sweep.records]) expect(r.messages).toBe(2 * (r.iterations + r.warmup));
  });

  it('delivers nothing stale in any safe configuration and pattern', () => {
    const safe = cells.records.filter((r) => r.safe);
    // pin-per-op, pipeline, hooks (not under fork), notifier, odp×notifier
    expect(safe.length).toBe(5 * (2 + (canRotate ? 1 : 0)) + 4 + (canMigrate ? 1 : 0));
    expect(safe.filter((r) => r.stale > 0).map((r) => `${r.label} ${r.pattern}`)).toEqual([]);
    expect(sweep.records.filter((r) => r.safe && r.stale > 0)).toEqual([]);
  });

  it('has pinning×none deliver stale bytes under churn, and the told caches invalidate instead', () => {
    const none = of('pinning-none', 'churn')[0]!;
    // from the first churn on, every delivery is stale: both ranks read and write old frames
    expect(none.stale).toBeGreaterThan(0);
    expect(none.stale_bytes).toBeGreaterThan(0);
    expect(none.invalidations).toBe(0);
    for (const c of ['pinning-hooks', 'pinning-notifier', 'odp-notifier']) {
      const r = of(c, 'churn')[0]!;
      expect(r.stale).toBe(0);
      expect(r.invalidations).toBeGreaterThan(0);
      expect(r.hits).toBe(0); // every buffer is new: nothing to hit
    }
    expect(sum(of('pinning-none', 'reuse'), (r) => r.stale)).toBe(0);
  });

  it('has a legacy fork leave pinning×none and pinning×hooks reading the frame the child kept; notifier, ODP and pin-per-op do not', () => {
    for (const c of ['pinning-none', 'pinning-hooks']) expect(sum(of(c, 'fork'), (r) => r.stale), c).toBeGreaterThan(0);
    for (const c of ['pinning-off', 'pinning-off-pipeline', 'pinning-notifier', 'odp-notifier']) {
      expect(sum(of(c, 'fork'), (r) => r.stale), c).toBe(0);
    }
    // the notifier hears the copy-on-write fault that moved the page, as an invalidation
    expect(sum(of('pinning-notifier', 'fork'), (r) => r.invalidations)).toBeGreaterThan(0);
  });

  it('has the pipeline register per chunk like pin-per-op (one 1 MiB chunk per 256K message)', () => {
    // reuse: page-aligned buffers, one region per side per message, as pin-per-op
    const reuse = of('pinning-off-pipeline', 'reuse')[0]!;
    expect(reuse.label).toBe('pipeline');
    expect(reuse.registrations).toBe(2 * reuse.messages);
    // churn: malloc'd buffers off page boundaries; the receiver registers the landing's head and tail
    // pages apart from its aligned middle (so no two chunks' regions share a page): up to 3 pieces
    const churn = of('pinning-off-pipeline', 'churn')[0]!;
    expect(churn.registrations).toBeGreaterThan(2 * churn.messages);
    expect(churn.registrations).toBeLessThanOrEqual(4 * churn.messages);
    expect(churn.stale).toBe(0);
  });

  it.skipIf(!canMigrate)('has hooks miss only the kernel-initiated migration, which notifier catches', () => {
    for (const p of ['reuse', 'churn', 'rotate']) expect(sum(of('pinning-hooks', p), (r) => r.stale)).toBe(0);
    expect(sum(of('pinning-mlock-hooks', 'migrate'), (r) => r.stale)).toBeGreaterThan(0);
    expect(sum(of('pinning-mlock-notifier', 'migrate'), (r) => r.stale)).toBe(0);
    expect(sum(of('pinning-mlock-notifier', 'migrate'), (r) => r.invalidations)).toBeGreaterThan(0);
  });

  it.skipIf(!canRotate)('has rotate beyond the region limit miss on every lookup', () => {
    for (const c of ['pinning-hooks', 'pinning-notifier']) {
      const r = of(c, 'rotate')[0]!;
      expect(r.hits).toBe(0);
      expect(r.misses).toBe(2 * r.messages);
    }
  });

  it('has pin-per-op register twice per rendezvous message and run slower than every cache (reuse)', () => {
    const rendezvous = sweep.records.filter((r) => r.size >= 16 * 1024);
    for (const r of rendezvous.filter((x) => x.rcache === 'off')) {
      expect(r.registrations).toBe(2 * r.messages);
      // the caches on the same (pinning) adapter: only the registration policy differs
      for (const c of rendezvous.filter((x) => x.size === r.size && x.rcache !== 'off' && x.fabric === 'pinning')) {
        expect(r.latency_us, `${c.label} at ${r.size}`).toBeGreaterThan(c.latency_us);
      }
    }
    // below the eager threshold nothing is registered: every configuration costs the same
    for (const r of sweep.records.filter((x) => x.size < 12 * 1024 && x.fabric === 'pinning')) {
      expect(r.registrations).toBe(0);
    }
  });

  it('has the caches register each rank buffer once under reuse and hit on every other lookup', () => {
    for (const r of sweep.records.filter((x) => x.config === 'pinning-notifier' && x.size >= 16 * 1024)) {
      expect(r.hits + r.misses).toBe(2 * r.messages);
      expect(r.misses).toBe(4); // s_buf and r_buf of each rank, once per size (the prefix grows)
      expect(r.registrations).toBe(4);
    }
  });
});
