/**
 * Micro-benchmark of @tsmpi/rcache (wall-clock speed of the cache itself, not modeled time).
 *
 *   npx tsx --conditions=source bench/rcache.ts        (or `npm run build` first, then npx tsx bench/rcache.ts)
 *
 * 1. acquire+release of a cached region (a hit) with 1, 10^3, 10^4, 10^5 regions cached, per source; the
 *    addresses hit regions in a pseudo-random order so the index lookup is not served by one hot path.
 *    Baselines measured in the same run over the same address stream: the bare loop (address fetch + two
 *    calls of an empty function) and a Map keyed by page number (what a hash-only cache would pay).
 * 2. draining 10^4 invalidations: 10^4 one-page regions are unmapped with no cache call, then one acquire
 *    drains them (deregistering 10^4 regions through a trivial ops table).
 * Target: a hit under 100 ns at 10^4 regions.
 */
import { AddressSpace, PhysicalMemory } from '@tsmpi/vm';
import {
  RegistrationCache,
  hooksSource,
  noneSource,
  notifierSource,
  type InvalidationSource,
  type RegistrationOps,
} from '@tsmpi/rcache';

const PAGE = 4096;
const R = 1;
const SIZES = [1, 1_000, 10_000, 100_000];
const ITER = 1_000_000;
const REPEATS = 9;
type Kind = 'none' | 'hooks' | 'notifier';
const KINDS: Kind[] = ['none', 'hooks', 'notifier'];

/** A device that costs nothing, so the numbers are the cache's own. */
function trivialOps(): RegistrationOps<number> & { live: number } {
  let next = 1;
  const ops = {
    live: 0,
    register: () => (ops.live++, next++),
    deregister: () => void ops.live--,
  };
  return ops;
}

function space(vaBytes: number, physBytes = 64 * 1024 * 1024): AddressSpace {
  return new AddressSpace(new PhysicalMemory({ bytes: physBytes, pageSize: PAGE }), { vaBytes, memlockLimit: Infinity });
}

function source(kind: Kind, as: AddressSpace, capacity?: number): InvalidationSource {
  if (kind === 'none') return noneSource();
  if (kind === 'hooks') return hooksSource(as);
  return notifierSource(as, capacity === undefined ? {} : { capacity });
}

/** Region i covers page 2i (gaps keep regions from merging); the stream visits them in LCG order. */
function addressStream(regions: number, base: number): Float64Array {
  const n = 1 << 16;
  const out = new Float64Array(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = base + (x % regions) * 2 * PAGE + 64;
  }
  return out;
}

function nsPerOp(fn: () => void): number {
  let best = Infinity;
  for (let r = 0; r < REPEATS; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    const ns = Number(process.hrtime.bigint() - t0) / ITER;
    if (ns < best) best = ns;
  }
  return best;
}

function benchHits(): void {
  console.log('acquire+release hit, ns per pair (best of %d runs of %d pairs)', REPEATS, ITER);
  const header = ['regions', 'loop baseline', 'Map baseline', ...KINDS.map((k) => `rcache/${k}`)];
  const rows: string[][] = [];
  for (const n of SIZES) {
    const vaBytes = Math.max(64 * 1024 * 1024, (2 * n + 4096) * PAGE * 2);
    const base = PAGE * 4096;
    const addrs = addressStream(n, base);
    const mask = addrs.length - 1;

    const noop = (_x: unknown): unknown => _x;
    const loop = nsPerOp(() => {
      for (let i = 0; i < ITER; i++) noop(noop(addrs[i & mask]));
    });
    const map = new Map<number, { refCount: number }>();
    for (let i = 0; i < n; i++) map.set(base / PAGE + 2 * i, { refCount: 0 });
    const mapNs = nsPerOp(() => {
      for (let i = 0; i < ITER; i++) {
        const e = map.get(Math.floor((addrs[i & mask] as number) / PAGE))!;
        e.refCount++;
        e.refCount--;
      }
    });

    const row = [String(n), loop.toFixed(1), mapNs.toFixed(1)];
    for (const kind of KINDS) {
      const as = space(vaBytes);
      const ops = trivialOps();
      const cache = new RegistrationCache<number>({ ops, source: source(kind, as), pageSize: PAGE });
      for (let i = 0; i < n; i++) cache.release(cache.acquire(base + 2 * i * PAGE, PAGE, R));
      const before = cache.stats;
      const ns = nsPerOp(() => {
        for (let i = 0; i < ITER; i++) cache.release(cache.acquire(addrs[i & mask] as number, 128, R));
      });
      const after = cache.stats;
      if (after.hitsFast - before.hitsFast !== ITER * REPEATS || after.regions !== n) {
        throw new Error(`bench(${kind}, ${n}): expected ${ITER * REPEATS} fast hits over ${n} regions, got ${after.hitsFast - before.hitsFast} over ${after.regions}`);
      }
      row.push(ns.toFixed(1));
      cache.close();
    }
    rows.push(row);
  }
  table(header, rows);
}

function benchDrain(): void {
  const N = 10_000;
  console.log('\ndraining %d invalidations (one acquire after %d munmaps with no cache call)', N, N);
  const rows: string[][] = [];
  for (const kind of ['hooks', 'notifier'] as const) {
    const as = space(512 * 1024 * 1024, 128 * 1024 * 1024);
    const ops = trivialOps();
    const src = source(kind, as, 2 * N); // room for every report: this measures a drain, not an overflow
    const cache = new RegistrationCache<number>({ ops, source: src, pageSize: PAGE });
    const pages: number[] = [];
    for (let i = 0; i < N; i++) {
      const a = as.mmap(PAGE, { populate: true });
      pages.push(a);
      as.mmap(PAGE); // a gap page between regions, so they never merge
      cache.release(cache.acquire(a, PAGE, R));
    }
    const t0 = process.hrtime.bigint();
    for (const a of pages) as.munmap(a, PAGE);
    const t1 = process.hrtime.bigint();
    const queued = src.queued;
    const spare = as.mmap(PAGE, { populate: true });
    const t2 = process.hrtime.bigint();
    const reg = cache.acquire(spare, PAGE, R);
    const t3 = process.hrtime.bigint();
    const s = cache.stats;
    if (s.invalidations !== N || s.drains !== 1 || s.overflows !== 0) throw new Error(`drain(${kind}): ${s.invalidations} invalidations in ${s.drains} drains`);
    cache.release(reg);
    cache.close();
    rows.push([
      kind,
      String(queued),
      (Number(t1 - t0) / 1e6).toFixed(2),
      (Number(t3 - t2) / 1e6).toFixed(2),
      (Number(t3 - t2) / N).toFixed(0),
    ]);
  }
  table(['source', 'queued', `${N} munmaps ms`, 'drain ms', 'ns/invalidation'], rows);
  console.log('(munmap time includes the source callback; vm\'s Ummunotify finds the overlapping watches in an interval tree)');
}

function table(header: string[], rows: string[][]): void {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(w[i] as number)).join('  ');
  console.log(line(header));
  for (const r of rows) console.log(line(r));
}

console.log(`node ${process.version}, ${new Date().toISOString()}`);
benchHits();
benchDrain();
