/**
 * The cache core over a plain register/deregister pair (TestDevice): hits, merging, access upgrades, LRU
 * limits, ENOMEM evict-and-retry, deferred deregistration, close. Every test ends by checking the device
 * for leaked registrations.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  CacheClosed,
  InvalidArgument,
  OutOfLockableMemory,
  RegistrationCache,
  RegistrationNotHeld,
  noneSource,
  type RegistrationCacheOptions,
} from '@tsmpi/rcache';
import { ManualSource, PAGE, R, RW, TestDevice, W } from './fixtures.js';

const A = 0x10_0000; // a base address; regions below are drawn relative to it in pages

let open: Array<{ cache: RegistrationCache<number>; dev: TestDevice }> = [];

function make(opts: Partial<RegistrationCacheOptions<number>> = {}, dev = new TestDevice()) {
  const cache = new RegistrationCache<number>({ ops: dev, source: noneSource(), pageSize: PAGE, ...opts });
  open.push({ cache, dev });
  return { cache, dev };
}

afterEach(() => {
  // Teardown leak check: closing deregisters everything, and the device must then hold nothing.
  for (const { cache, dev } of open) {
    cache.close();
    expect(dev.live.size).toBe(0);
  }
  open = [];
});

describe('hits', () => {
  it('a second acquire after release is a fast hit on the same registration', () => {
    const { cache, dev } = make();
    const a = cache.acquire(A + 10, 100, R);
    expect([a.start, a.end, a.access, a.refCount]).toEqual([A, A + PAGE, R, 1]);
    cache.release(a);
    const b = cache.acquire(A + 200, 50, R);
    expect(b).toBe(a);
    expect(b.handle).toBe(a.handle);
    const s = cache.stats;
    expect([s.gets, s.hitsFast, s.hitsSlow, s.misses, s.registrations, s.puts]).toEqual([2, 1, 0, 1, 1, 1]);
    expect(dev.registerCalls).toBe(1);
    expect([s.regions, s.bytes, s.regionsInUse]).toEqual([1, PAGE, 1]);
    cache.release(b);
    expect(cache.stats.regionsInUse).toBe(0);
    expect(dev.live.size).toBe(1); // lazy deregistration: unused, still registered
  });

  it('page hints: pages that share a hint slot, and hints to departed regions, never answer wrongly', () => {
    const { cache } = make();
    const far = A + 4096 * PAGE; // same slot as A in the smallest (2^12-slot) table
    const a = cache.acquire(A, PAGE, R);
    const b = cache.acquire(far, PAGE, R);
    for (let i = 0; i < 3; i++) {
      expect(cache.acquire(A, PAGE, R)).toBe(a);
      expect(cache.acquire(far, PAGE, R)).toBe(b);
    }
    expect(cache.stats.hitsFast).toBe(6);
    cache.invalidate(A, A + PAGE); // a leaves; its hint stays behind
    const a2 = cache.acquire(A, PAGE, R);
    expect(a2).not.toBe(a);
    expect(cache.acquire(A, PAGE, R)).toBe(a2);
    for (let i = 0; i < 4; i++) cache.release(a);
    for (let i = 0; i < 4; i++) cache.release(b);
    cache.release(a2);
    cache.release(a2);
  });

  it('page hints grow with the cache: 10^4 regions all hit on the fast path', () => {
    const { cache } = make();
    const n = 10_000;
    for (let i = 0; i < n; i++) cache.release(cache.acquire(A + 2 * i * PAGE, PAGE, R));
    for (let i = n - 1; i >= 0; i--) {
      const r = cache.acquire(A + 2 * i * PAGE + 100, 10, R);
      expect(r.start).toBe(A + 2 * i * PAGE);
      cache.release(r);
    }
    expect([cache.stats.hitsFast, cache.stats.misses, cache.stats.regions]).toEqual([n, n, n]);
  });

  it('aligns the request outward to whole pages', () => {
    const { cache } = make();
    const r = cache.acquire(A + PAGE - 1, 2, R); // straddles a page boundary
    expect([r.start, r.end]).toEqual([A, A + 2 * PAGE]);
    cache.release(r);
  });

  it('charges the modeled hit and counts it', () => {
    let charged = 0;
    const { cache } = make({ charge: (us) => (charged += us), cost: { hitUs: 0.05 } });
    cache.release(cache.acquire(A, PAGE, R));
    for (let i = 0; i < 10; i++) cache.release(cache.acquire(A, PAGE, R));
    expect(cache.stats.hitsFast).toBe(10);
    expect(charged).toBeCloseTo(0.5, 10);
    expect(cache.stats.modeledUs.hits).toBeCloseTo(0.5, 10);
  });

  it('measures the time the device charges while registering through now()', () => {
    let clock = 0;
    const dev = new TestDevice();
    const ops = {
      register: (s: number, e: number, a: number) => ((clock += 16 + 0.25 * ((e - s) / PAGE)), dev.register(s, e, a)),
      deregister: (h: number) => ((clock += 4), dev.deregister(h)),
    };
    const cache = new RegistrationCache<number>({ ops, source: noneSource(), pageSize: PAGE, now: () => clock });
    cache.release(cache.acquire(A, 4 * PAGE, R));
    cache.flush();
    expect(cache.stats.modeledUs.registering).toBe(17);
    expect(cache.stats.modeledUs.deregistering).toBe(4);
    cache.close();
    expect(dev.live.size).toBe(0);
  });
});

describe('merging', () => {
  it('merge_overlap: an overlapping request gets the union; the merged-away region dies at its last release', () => {
    //   first  [A, A+3p)          held
    //   second       [A+2p, A+5p)
    //   result [A,          A+5p)
    const { cache, dev } = make();
    const first = cache.acquire(A, 3 * PAGE, R);
    const second = cache.acquire(A + 2 * PAGE, 3 * PAGE, W);
    expect([second.start, second.end, second.access]).toEqual([A, A + 5 * PAGE, RW]);
    let s = cache.stats;
    expect([s.misses, s.merges, s.regions, s.regionsInUse, s.regionsDetached]).toEqual([2, 1, 1, 1, 1]);
    expect(dev.live.size).toBe(2); // first is still held, so still registered
    expect(first.invalidated).toBe(false);
    cache.release(first);
    expect(dev.live.size).toBe(1);
    s = cache.stats;
    expect([s.deregistrations, s.regionsDetached]).toEqual([1, 0]);
    // The union now serves either original request.
    const again = cache.acquire(A, PAGE, R);
    expect(again).toBe(second);
    cache.release(again);
    cache.release(second);
  });

  it('merge_multi: one request spanning three cached regions folds them all', () => {
    //   [A,A+1p)   [A+2p,A+3p)   [A+4p,A+5p)      all unused
    //        [A+p/2 ...................... A+4p+1)
    const { cache, dev } = make();
    for (const p of [0, 2, 4]) cache.release(cache.acquire(A + p * PAGE, PAGE, R));
    const big = cache.acquire(A + PAGE / 2, 4 * PAGE, R);
    expect([big.start, big.end]).toEqual([A, A + 5 * PAGE]);
    expect(cache.stats.merges).toBe(3);
    expect(cache.stats.regions).toBe(1);
    expect(dev.live.size).toBe(1);
    cache.release(big);
  });

  it("merge 'adjacent' folds touching regions; merge true leaves them apart", () => {
    for (const merge of [true, 'adjacent'] as const) {
      const { cache } = make({ merge });
      cache.release(cache.acquire(A, PAGE, R));
      const r = cache.acquire(A + PAGE, PAGE, R);
      expect([r.start, r.end]).toEqual(merge === 'adjacent' ? [A, A + 2 * PAGE] : [A + PAGE, A + 2 * PAGE]);
      expect(cache.stats.merges).toBe(merge === 'adjacent' ? 1 : 0);
      cache.release(r);
    }
  });

  it('merge false: a new region displaces the ones it overlaps instead of growing', () => {
    const { cache, dev } = make({ merge: false });
    cache.release(cache.acquire(A, 2 * PAGE, R));
    const r = cache.acquire(A + PAGE, 2 * PAGE, R);
    expect([r.start, r.end]).toEqual([A + PAGE, A + 3 * PAGE]);
    expect([cache.stats.displaced, cache.stats.merges, cache.stats.regions]).toEqual([1, 0, 1]);
    expect(dev.live.size).toBe(1);
    cache.release(r);
  });
});

describe('access', () => {
  it('upgrade: a cached region with too little access is re-registered with the union', () => {
    const { cache, dev } = make();
    const ro = cache.acquire(A, PAGE, R);
    cache.release(ro);
    const rw = cache.acquire(A, PAGE, W);
    expect(rw).not.toBe(ro);
    expect(rw.access).toBe(RW);
    const s = cache.stats;
    expect([s.misses, s.upgrades, s.merges, s.registrations, s.deregistrations]).toEqual([2, 1, 1, 2, 1]);
    expect([...dev.live.values()]).toEqual([{ start: A, end: A + PAGE, access: RW }]);
    cache.release(rw);
    // Both R and W requests now hit.
    cache.release(cache.acquire(A, PAGE, R));
    cache.release(cache.acquire(A, PAGE, W));
    expect(cache.stats.hitsFast).toBe(2);
  });
});

describe('LRU limits', () => {
  it('by_count: the least recently released unused region is evicted first', () => {
    const { cache, dev } = make({ maxRegions: 2 });
    const at = (p: number) => A + p * 2 * PAGE; // gaps, so nothing merges
    cache.release(cache.acquire(at(0), PAGE, R));
    cache.release(cache.acquire(at(1), PAGE, R));
    cache.release(cache.acquire(at(0), PAGE, R)); // 0 becomes most recent
    cache.release(cache.acquire(at(2), PAGE, R)); // over by one: 1 goes
    const s = cache.stats;
    expect([s.evictions, s.regions, s.overLimit]).toEqual([1, 2, false]);
    expect(cache.dump().map((r) => r.start)).toEqual([at(0), at(2)]);
    expect([...dev.live.values()].map((r) => r.start).sort()).toEqual([at(0), at(2)]);
  });

  it('by_count after more releases than the release log holds: the order is by latest release, across a compaction', () => {
    const { cache } = make({ maxRegions: 3 });
    const at = (p: number) => A + p * 2 * PAGE;
    for (const p of [0, 1, 2]) cache.release(cache.acquire(at(p), PAGE, R)); // listed 0, 1, 2
    // 5000 more releases (more than the release log holds before it compacts), ending with 1 then 0.
    for (let i = 0; i < 2500; i++) {
      cache.release(cache.acquire(at(1), PAGE, R));
      cache.release(cache.acquire(at(0), PAGE, R));
    }
    cache.release(cache.acquire(at(3), PAGE, R)); // evicts 2, the least recently released
    expect(cache.dump().map((r) => r.start)).toEqual([at(0), at(1), at(3)]);
    cache.release(cache.acquire(at(4), PAGE, R)); // then 1
    expect(cache.dump().map((r) => r.start)).toEqual([at(0), at(3), at(4)]);
    expect([cache.stats.evictions, cache.stats.hitsFast]).toEqual([2, 5000]);
  });

  it('by_size: bytes over maxBytes evict until under', () => {
    const { cache } = make({ maxBytes: 4 * PAGE });
    cache.release(cache.acquire(A, 2 * PAGE, R));
    cache.release(cache.acquire(A + 4 * PAGE, 2 * PAGE, R));
    cache.release(cache.acquire(A + 8 * PAGE, 3 * PAGE, R)); // 7 pages: both older ones must go to get <= 4
    const s = cache.stats;
    expect([s.evictions, s.regions, s.bytes]).toEqual([2, 1, 3 * PAGE]);
  });

  it('by_count_inuse: a region in use is never evicted; the limit is exceeded and the stats say so', () => {
    const { cache, dev } = make({ maxRegions: 1 });
    const held = cache.acquire(A, PAGE, R);
    const other = cache.acquire(A + 4 * PAGE, PAGE, R);
    let s = cache.stats;
    expect([s.evictions, s.regions, s.overLimit, s.limitExceeded]).toEqual([0, 2, true, 1]);
    expect(dev.live.size).toBe(2);
    cache.release(held); // now unused and over the limit: evicted at once
    s = cache.stats;
    expect([s.evictions, s.regions, s.overLimit]).toEqual([1, 1, false]);
    expect(cache.dump()).toEqual([{ start: A + 4 * PAGE, end: A + 5 * PAGE, access: R, refCount: 1 }]);
    cache.release(other);
  });

  it('a region re-acquired while listed in the LRU is skipped by eviction', () => {
    const { cache } = make({ maxRegions: 1 });
    const a = cache.acquire(A, PAGE, R);
    cache.release(a);
    cache.acquire(A, PAGE, R); // held again, still listed
    const b = cache.acquire(A + 4 * PAGE, PAGE, R);
    expect([cache.stats.evictions, cache.stats.regions, a.refCount]).toEqual([0, 2, 1]);
    cache.release(a);
    expect(cache.stats.evictions).toBe(1);
    cache.release(b);
  });
});

describe('lockable memory', () => {
  it('enomem_retry: register fails for lack of lockable memory, unused regions are evicted, the retry succeeds', () => {
    const dev = new TestDevice(3 * PAGE);
    const { cache } = make({}, dev);
    for (const p of [0, 2, 4]) cache.release(cache.acquire(A + p * PAGE, PAGE, R)); // 3 pages locked, all unused
    const r = cache.acquire(A + 10 * PAGE, 2 * PAGE, R); // needs 2 pages: the two oldest go
    const s = cache.stats;
    expect([s.memoryRetries, s.evictions, s.evictionsForMemory, s.registrationFailures]).toEqual([1, 2, 2, 1]);
    expect(cache.dump().map((x) => x.start)).toEqual([A + 4 * PAGE, A + 10 * PAGE]);
    expect(dev.lockedBytes).toBe(3 * PAGE);
    cache.release(r);
  });

  it('enomem_inuse: with everything in use the error says so, and nothing is leaked', () => {
    const dev = new TestDevice(2 * PAGE);
    const { cache } = make({}, dev);
    const a = cache.acquire(A, 2 * PAGE, R);
    let err: unknown;
    try {
      cache.acquire(A + 8 * PAGE, PAGE, R);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OutOfLockableMemory);
    expect((err as OutOfLockableMemory).code).toBe('ENOMEM');
    expect((err as Error).message).toMatch(/1 cached regions in use/);
    expect((err as Error).message).toMatch(/raise the locked-memory limit/);
    const s = cache.stats;
    expect([s.registrationFailures, s.memoryRetries, s.regions, s.registrations]).toEqual([1, 0, 1, 1]);
    cache.release(a);
  });
});

describe('invalidation', () => {
  it('release_inuse: a region invalidated while held leaves the index at once and is deregistered at its last release', () => {
    const { cache, dev } = make();
    const held = cache.acquire(A, 2 * PAGE, R);
    cache.acquire(A, PAGE, R); // refCount 2
    cache.invalidate(A + PAGE, A + 2 * PAGE);
    let s = cache.stats;
    expect([s.invalidations, s.invalidationsBy.user, s.deferredDeregistrations, s.regions, s.regionsDetached]).toEqual([1, 1, 1, 0, 1]);
    expect(held.invalidated).toBe(true);
    expect(dev.live.size).toBe(1);
    const fresh = cache.acquire(A, PAGE, R); // never handed out again
    expect(fresh).not.toBe(held);
    expect(cache.stats.misses).toBe(2);
    cache.release(held);
    expect(dev.live.size).toBe(2);
    cache.release(held);
    expect(dev.live.size).toBe(1);
    s = cache.stats;
    expect([s.deregistrations, s.regionsDetached]).toEqual([1, 0]);
    cache.release(fresh);
  });

  it('an unused region invalidated is deregistered right away', () => {
    const { cache, dev } = make();
    cache.release(cache.acquire(A, PAGE, R));
    cache.invalidate(A, A + PAGE);
    expect([cache.stats.deferredDeregistrations, cache.stats.deregistrations, dev.live.size]).toEqual([0, 1, 0]);
  });

  it('source reports are only queued; the next acquire drains them in one batch', () => {
    const src = new ManualSource();
    let charged = 0;
    const { cache, dev } = make({ source: src, charge: (us) => (charged += us), cost: { hitUs: 0, drainUs: 1 } });
    const regs = [0, 2, 4].map((p) => cache.acquire(A + p * PAGE, PAGE, R));
    for (const r of regs) cache.release(r);
    src.report(A, A + 5 * PAGE); // hits all three watches
    src.report(A, A + 5 * PAGE); // again: the same cookies, not queued twice
    expect(src.queued).toBe(3);
    expect(dev.live.size).toBe(3); // nothing deregistered inside the callback
    const r = cache.acquire(A + 8 * PAGE, PAGE, R);
    const s = cache.stats;
    expect([s.drains, s.reports, s.invalidations, s.invalidationsBy.hooks, s.deregistrations]).toEqual([1, 3, 3, 3, 3]);
    expect(charged).toBe(1);
    expect(src.queued).toBe(0);
    cache.release(r);
  });

  it('overflow: a lost report flushes everything unused and invalidates everything in use', () => {
    const src = new ManualSource();
    src.capacity = 1;
    const { cache, dev } = make({ source: src });
    const held = cache.acquire(A, PAGE, R);
    cache.release(cache.acquire(A + 2 * PAGE, PAGE, R));
    src.report(A, A + 4 * PAGE); // the second cookie does not fit
    cache.release(cache.acquire(A + 8 * PAGE, PAGE, R));
    const s = cache.stats;
    expect([s.overflows, s.invalidationsBy.overflow, s.invalidations, s.deferredDeregistrations]).toEqual([1, 2, 2, 1]);
    expect(held.invalidated).toBe(true);
    expect(cache.dump().map((r) => r.start)).toEqual([A + 8 * PAGE]);
    expect(dev.live.size).toBe(2); // the held one and the new one
    cache.release(held);
    expect(dev.live.size).toBe(1);
  });

  it('refuse: a source that does not hear its self-test makes the cache register per acquire', () => {
    const src = new ManualSource();
    src.hears = false;
    const { cache, dev } = make({ source: src });
    const s0 = cache.stats;
    expect(s0.refusing).toBe(true);
    expect(s0.refusal).toMatch(/did not report the munmap of a watched page/);
    const a = cache.acquire(A, PAGE, R);
    cache.release(a);
    const b = cache.acquire(A, PAGE, R);
    expect(b).not.toBe(a);
    expect(dev.live.size).toBe(1);
    cache.release(b);
    const s = cache.stats;
    expect([s.uncached, s.hitsFast, s.hitsSlow, s.misses, s.registrations, s.deregistrations, s.regions]).toEqual([2, 0, 0, 0, 2, 2, 0]);
    expect(src.watches.size).toBe(0);
  });

  it('a healthy source passes the self-test and caches', () => {
    const src = new ManualSource();
    const { cache } = make({ source: src });
    expect([cache.stats.refusing, src.watches.size]).toEqual([false, 0]);
  });
});

describe('pin-per-op', () => {
  it("cache: false registers on every acquire and deregisters on every release, counted the same way", () => {
    const { cache, dev } = make({ cache: false });
    for (let i = 0; i < 3; i++) {
      const r = cache.acquire(A, PAGE, R);
      expect(dev.live.size).toBe(1);
      cache.release(r);
      expect(dev.live.size).toBe(0);
    }
    const s = cache.stats;
    expect([s.policy, s.gets, s.uncached, s.registrations, s.deregistrations, s.hitsFast]).toEqual(['off', 3, 3, 3, 3, 0]);
  });
});

describe('misuse and close', () => {
  it('rejects bad arguments with errors that name them', () => {
    const { cache } = make();
    expect(() => cache.acquire(A, 0, R)).toThrow(InvalidArgument);
    expect(() => cache.acquire(-1, 10, R)).toThrow(/addr must be a non-negative integer/);
    expect(() => cache.acquire(A, 1.5, R)).toThrow(/length must be a positive integer/);
    expect(() => new RegistrationCache({ ops: new TestDevice(), source: noneSource(), pageSize: 3000 })).toThrow(/pageSize must be a power of two/);
  });

  it('release more times than acquired, or to the wrong cache, is an error', () => {
    const { cache } = make();
    const { cache: other } = make();
    const r = cache.acquire(A, PAGE, R);
    expect(() => other.release(r)).toThrow(RegistrationNotHeld);
    cache.release(r);
    expect(() => cache.release(r)).toThrow(/released more times than acquired/);
  });

  it('close deregisters everything and reports what was still held', () => {
    const { cache, dev } = make();
    const held = cache.acquire(A, PAGE, R);
    cache.release(cache.acquire(A + 4 * PAGE, PAGE, R));
    const report = cache.close();
    expect(report.deregistered).toBe(2);
    expect(report.inUse).toEqual([{ start: A, end: A + PAGE, access: R, refCount: 1, invalidated: false }]);
    expect(dev.live.size).toBe(0);
    expect(() => cache.acquire(A, PAGE, R)).toThrow(CacheClosed);
    expect(() => cache.release(held)).toThrow(CacheClosed);
  });

  it('events: miss, register, hit, evict, deregister in order', () => {
    const { cache } = make({ maxRegions: 1 });
    const log: string[] = [];
    cache.on('miss', () => log.push('miss')).on('register', () => log.push('register')).on('hit', (_r, p) => log.push(`hit:${p}`));
    cache.on('evict', (_r, why) => log.push(`evict:${why}`)).on('deregister', (_r, why) => log.push(`deregister:${why}`));
    cache.release(cache.acquire(A, PAGE, R));
    cache.release(cache.acquire(A, PAGE, R));
    cache.release(cache.acquire(A + 4 * PAGE, PAGE, R));
    expect(log).toEqual(['miss', 'register', 'hit:fast', 'miss', 'register', 'evict:limit', 'deregister:evict']);
  });
});
