/**
 * The invalidation sources over a real @tsmpi/vm address space: what each one hears, what the cache then
 * hands out, and what the adapter's DMA would really read.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AddressSpace, Allocator, PhysicalMemory } from '@tsmpi/vm';
import {
  RegistrationCache,
  createRegistrationPolicy,
  hooksSource,
  noneSource,
  notifierSource,
  type InvalidationSource,
} from '@tsmpi/rcache';
import { VmDevice, type VmRegistration } from './vm-device.js';

const PAGE = 4096;
const R = 1;
type Listening = 'hooks' | 'notifier';
type Kind = 'none' | Listening;
const LISTENING: Listening[] = ['hooks', 'notifier'];

let open: Array<{ cache: RegistrationCache<VmRegistration>; dev: VmDevice }> = [];

function setup(kind: Kind, mode: 'pin' | 'snapshot' = 'pin', capacity?: number) {
  const memory = new PhysicalMemory({ bytes: 32 * 1024 * 1024, pageSize: PAGE });
  const as = new AddressSpace(memory, { vaBytes: 256 * 1024 * 1024 });
  const source: InvalidationSource =
    kind === 'none' ? noneSource() : kind === 'hooks' ? hooksSource(as) : notifierSource(as, capacity === undefined ? {} : { capacity });
  const dev = new VmDevice(as, mode);
  const cache = new RegistrationCache<VmRegistration>({ ops: dev, source, pageSize: PAGE });
  open.push({ cache, dev });
  return { as, source, dev, cache };
}

afterEach(() => {
  for (const { cache, dev } of open) {
    cache.close();
    expect(dev.live.size).toBe(0);
  }
  open = [];
});

describe.each(LISTENING)('%s source', (kind) => {
  it('passes the self-test at open and caches', () => {
    const { cache } = setup(kind);
    expect(cache.stats.refusing).toBe(false);
    expect(cache.stats.refusal).toBeUndefined();
  });

  it('free then map again at the same address: a miss, and the new registration reads the new bytes', () => {
    const { as, cache, dev } = setup(kind);
    const len = 16 * PAGE;
    const buf = as.mmap(len);
    as.fill(buf, len, 0xaa);
    const first = cache.acquire(buf, len, R);
    cache.release(first);
    as.munmap(buf, len);
    const again = as.mmap(len);
    expect(again).toBe(buf); // Linux placement reuses the hole: the dangerous case
    as.fill(again, len, 0xbb);
    const second = cache.acquire(again, len, R);
    expect(second).not.toBe(first);
    const s = cache.stats;
    expect([s.misses, s.hitsFast, s.invalidations, s.invalidationsBy[kind], s.drains, s.deregistrations]).toEqual([2, 0, 1, 1, 1, 1]);
    expect(dev.stalePages(second.handle)).toBe(0);
    expect(dev.dmaRead(second.handle, again, len).every((b) => b === 0xbb)).toBe(true);
    cache.release(second);
  });

  it('free and malloc at the same address (mmapped chunk): a miss, never the old registration', () => {
    const { as, cache, dev } = setup(kind);
    const heap = new Allocator(as);
    const size = 256 * 1024; // above the mmap threshold: free() munmaps it
    const p = heap.malloc(size);
    as.fill(p, size, 1);
    const first = cache.acquire(p, size, R);
    cache.release(first);
    heap.free(p);
    const q = heap.malloc(size);
    expect(q).toBe(p);
    as.fill(q, size, 2);
    const second = cache.acquire(q, size, R);
    expect(second).not.toBe(first);
    expect([cache.stats.misses, cache.stats.invalidations]).toEqual([2, 1]);
    expect(dev.stalePages(second.handle)).toBe(0);
    expect(dev.dmaRead(second.handle, q, size).every((b) => b === 2)).toBe(true);
    cache.release(second);
  });

  it('three pages watched, the middle one unmapped and the first madvised: exactly one report for that cookie', () => {
    const { as, cache, source } = setup(kind);
    const buf = as.mmap(3 * PAGE, { populate: true });
    cache.release(cache.acquire(buf, 3 * PAGE, R));
    as.munmap(buf + PAGE, PAGE);
    as.madvise(buf, PAGE, 'dontneed');
    expect(source.queued).toBe(1);
    const other = as.mmap(PAGE, { populate: true });
    cache.release(cache.acquire(other, PAGE, R));
    const s = cache.stats;
    expect([s.drains, s.reports, s.reportsUnmatched, s.invalidations]).toEqual([1, 1, 0, 1]);
  });

  it('an invalidated region in use leaves the index at once and is deregistered at its last release', () => {
    const { as, cache, dev } = setup(kind);
    const buf = as.mmap(4 * PAGE, { populate: true });
    const held = cache.acquire(buf, 4 * PAGE, R);
    as.munmap(buf, 4 * PAGE);
    expect(dev.live.size).toBe(1); // the callback only queued
    const fresh = as.mmap(4 * PAGE, { populate: true });
    const reg = cache.acquire(fresh, 4 * PAGE, R);
    expect(reg).not.toBe(held);
    expect(held.invalidated).toBe(true);
    let s = cache.stats;
    expect([s.deferredDeregistrations, s.regionsDetached, dev.live.size]).toEqual([1, 1, 2]);
    cache.release(held);
    s = cache.stats;
    expect([s.regionsDetached, s.deregistrations, dev.live.size]).toEqual([0, 1, 1]);
    cache.release(reg);
  });

  it('a pending report forces the slow path: the next hit on an untouched region is counted slow', () => {
    const { as, cache } = setup(kind);
    const a = as.mmap(PAGE, { populate: true });
    const b = as.mmap(PAGE, { populate: true });
    cache.release(cache.acquire(a, PAGE, R));
    cache.release(cache.acquire(b, PAGE, R));
    as.munmap(b, PAGE);
    cache.release(cache.acquire(a, PAGE, R));
    cache.release(cache.acquire(a, PAGE, R));
    const s = cache.stats;
    expect([s.hitsSlow, s.hitsFast, s.drains, s.invalidations]).toEqual([1, 1, 1, 1]);
  });

  it('release and flush are cache operations too: they drain, outside the callback', () => {
    const { as, cache, dev } = setup(kind);
    const a = as.mmap(PAGE, { populate: true });
    const b = as.mmap(PAGE, { populate: true });
    const c = as.mmap(PAGE, { populate: true });
    const held = cache.acquire(a, PAGE, R);
    cache.release(cache.acquire(b, PAGE, R));
    cache.release(cache.acquire(c, PAGE, R));
    as.munmap(b, PAGE);
    expect(dev.live.size).toBe(3);
    cache.release(held); // drains first: b goes
    expect([cache.stats.drains, dev.live.size]).toEqual([1, 2]);
    as.munmap(c, PAGE);
    cache.flush(); // drains (c goes), then drops every unused region (a)
    expect([cache.stats.drains, cache.stats.invalidations, dev.live.size]).toEqual([2, 2, 0]);
  });

  it('10^4 munmap/mmap cycles with no cache call keep the queue bounded; one acquire drains it', () => {
    const { as, cache, source } = setup(kind);
    const len = 2 * PAGE;
    let buf = as.mmap(len, { populate: true });
    cache.release(cache.acquire(buf, len, R));
    let maxQueued = 0;
    for (let i = 0; i < 10_000; i++) {
      as.munmap(buf, len);
      buf = as.mmap(len, { populate: true });
      if (source.queued > maxQueued) maxQueued = source.queued;
    }
    expect(maxQueued).toBe(1);
    const reg = cache.acquire(buf, len, R);
    const s = cache.stats;
    expect([s.drains, s.reports, s.invalidations, s.misses, s.registrations]).toEqual([1, 1, 1, 2, 2]);
    expect(source.queued).toBe(0);
    cache.release(reg);
  });
});

describe('none source', () => {
  it('free and malloc at the same address (mmapped chunk): the old registration, with the old bytes', () => {
    const { as, cache, dev } = setup('none');
    const heap = new Allocator(as);
    const size = 256 * 1024;
    const p = heap.malloc(size);
    as.fill(p, size, 1);
    const first = cache.acquire(p, size, R);
    cache.release(first);
    heap.free(p);
    const q = heap.malloc(size);
    expect(q).toBe(p);
    as.fill(q, size, 2);
    const second = cache.acquire(q, size, R);
    expect(second).toBe(first);
    expect([cache.stats.hitsFast, cache.stats.invalidations]).toEqual([1, 0]);
    expect(dev.stalePages(second.handle)).toBe(size / PAGE + 1); // the chunk header's page too
    expect(dev.dmaRead(second.handle, q, size).every((b) => b === 1)).toBe(true);
    cache.release(second);
  });

  it('free then map again at the same address: a stale hit that reads the old bytes', () => {
    const { as, cache, dev } = setup('none');
    expect(cache.stats.refusing).toBe(false); // deaf on purpose: no self-test
    const len = 16 * PAGE;
    const buf = as.mmap(len);
    as.fill(buf, len, 0xaa);
    const first = cache.acquire(buf, len, R);
    cache.release(first);
    as.munmap(buf, len);
    const again = as.mmap(len);
    expect(again).toBe(buf);
    as.fill(again, len, 0xbb);
    const second = cache.acquire(again, len, R);
    expect(second).toBe(first);
    expect(cache.stats.hitsFast).toBe(1);
    expect(cache.stats.invalidations).toBe(0);
    expect(dev.stalePages(second.handle)).toBe(16);
    expect(dev.dmaRead(second.handle, again, len).every((b) => b === 0xaa)).toBe(true); // stale bytes delivered
    cache.release(second);
  });

  it('a merge over a region whose pages are gone falls back to the requested range (UCX retry)', () => {
    //   cached (never told):  [A A A A]            pages 0-3, page 2-3 later unmapped
    //   request:                  [B B B B]        pages 1-4 → merged [0,5) fails on page 2
    //   registered instead:       [B B B B]        the request alone, after page 2-3 are mapped again
    const { as, cache, dev } = setup('none');
    const base = as.mmap(8 * PAGE);
    as.fill(base, 8 * PAGE, 1);
    const a = cache.acquire(base, 4 * PAGE, R);
    cache.release(a);
    as.munmap(base + 2 * PAGE, 2 * PAGE);
    expect(() => as.pin(base, 4 * PAGE)).toThrow(); // the merged range cannot be registered any more
    as.mmap(2 * PAGE, { addr: base + 2 * PAGE, fixed: true });
    as.munmap(base, PAGE); // page 0 gone: only the merge needs it
    const b = cache.acquire(base + PAGE, 4 * PAGE, R);
    expect([b.start, b.end]).toEqual([base + PAGE, base + 5 * PAGE]);
    expect([cache.stats.merges, cache.stats.mergeFallbacks, cache.stats.registrations]).toEqual([1, 1, 2]);
    expect(dev.stalePages(b.handle)).toBe(0);
    expect(dev.live.size).toBe(1); // the merged-away region was deregistered
    cache.release(b);
  });
});

describe('lockable memory over vm', () => {
  it('pin() beyond RLIMIT_MEMLOCK: the cache evicts unused registrations and the retry succeeds', () => {
    const memory = new PhysicalMemory({ bytes: 8 * 1024 * 1024, pageSize: PAGE });
    const as = new AddressSpace(memory, { vaBytes: 64 * 1024 * 1024, memlockLimit: 8 * PAGE });
    const dev = new VmDevice(as, 'pin');
    const cache = new RegistrationCache<VmRegistration>({ ops: dev, source: notifierSource(as), pageSize: PAGE });
    open.push({ cache, dev });
    const bufs = [0, 1, 2].map(() => as.mmap(3 * PAGE, { populate: true }));
    cache.release(cache.acquire(bufs[0]!, 3 * PAGE, R));
    cache.release(cache.acquire(bufs[1]!, 3 * PAGE, R)); // 6 of 8 pages pinned
    const reg = cache.acquire(bufs[2]!, 3 * PAGE, R); // needs 3: the oldest unused registration goes
    const s = cache.stats;
    expect([s.registrationFailures, s.memoryRetries, s.evictionsForMemory, s.regions]).toEqual([1, 1, 1, 2]);
    expect(as.lockedBytes).toBe(6 * PAGE);
    expect(cache.dump().map((r) => r.start).sort()).toEqual([bufs[1], bufs[2]].sort());
    cache.release(reg);
  });
});

describe('notifier source', () => {
  it('sees migration: the next acquire misses and registers the pages where they are now', () => {
    const { as, cache, dev } = setup('notifier', 'snapshot');
    const len = 4 * PAGE;
    const buf = as.mmap(len, { populate: true });
    as.mlock(buf, len);
    const first = cache.acquire(buf, len, R);
    cache.release(first);
    expect(as.migrate(buf, len).moved).toBe(4);
    as.fill(buf, len, 0x5a);
    const reg = cache.acquire(buf, len, R);
    expect(reg).not.toBe(first);
    const s = cache.stats;
    expect([s.hitsFast, s.misses, s.invalidationsBy.notifier, s.drains, s.drainBatches]).toEqual([0, 2, 1, 1, 1]);
    expect(dev.stalePages(reg.handle)).toBe(0);
    expect(dev.dmaRead(reg.handle, buf, len).every((b) => b === 0x5a)).toBe(true);
    cache.release(reg);
  });

  it('channel overflow: every unused region is dropped and every region in use invalidated', () => {
    const { as, cache, dev } = setup('notifier', 'pin', 2);
    const bufs = [0, 1, 2, 3].map(() => as.mmap(2 * PAGE, { populate: true }));
    const held = cache.acquire(bufs[0]!, PAGE, R);
    for (const b of bufs.slice(1)) cache.release(cache.acquire(b, PAGE, R));
    for (const b of bufs.slice(0, 3)) as.munmap(b, 2 * PAGE); // three cookies, room for two
    const spare = as.mmap(PAGE, { populate: true });
    const reg = cache.acquire(spare, PAGE, R);
    const s = cache.stats;
    expect(s.overflows).toBe(1);
    expect(s.invalidationsBy.overflow).toBe(4); // bufs[3] was never unmapped but goes too: reports were lost
    expect(held.invalidated).toBe(true);
    expect(cache.dump().map((r) => r.start)).toEqual([spare]);
    expect(dev.live.size).toBe(2); // held (deferred) + the new one
    cache.release(held);
    cache.release(reg);
    // The channel is clean again: the next unmap is an ordinary single report.
    as.munmap(spare, PAGE);
    cache.release(cache.acquire(bufs[3]!, PAGE, R));
    expect([cache.stats.overflows, cache.stats.invalidationsBy.notifier]).toEqual([1, 1]);
  });
});

describe('hooks source', () => {
  it('misses migration: the registration hit after migrate() no longer matches the page table', () => {
    const { as, cache, dev } = setup('hooks', 'snapshot');
    const len = 4 * PAGE;
    const buf = as.mmap(len, { populate: true });
    as.mlock(buf, len); // resident, but migration still moves it
    cache.release(cache.acquire(buf, len, R));
    const { moved } = as.migrate(buf, len);
    expect(moved).toBe(4);
    as.fill(buf, len, 0x5a);
    const reg = cache.acquire(buf, len, R);
    expect(cache.stats.hitsFast).toBe(1);
    expect(cache.stats.invalidations).toBe(0);
    expect(dev.stalePages(reg.handle)).toBe(4);
    expect(dev.dmaRead(reg.handle, buf, len).some((b) => b !== 0x5a)).toBe(true);
    cache.release(reg);
  });

  it('a hook that never fires fails the self-test: the cache refuses to cache and says why', () => {
    const memory = new PhysicalMemory({ bytes: 8 * 1024 * 1024, pageSize: PAGE });
    const as = new AddressSpace(memory, { vaBytes: 64 * 1024 * 1024 });
    // The interception library failed to install: the calls happen, nobody hears them.
    const deaf = { pageSize: as.pageSize, mmap: as.mmap.bind(as), munmap: as.munmap.bind(as), memoryHooks: { on: () => () => {} } };
    const dev = new VmDevice(as);
    const cache = new RegistrationCache<VmRegistration>({ ops: dev, source: hooksSource(deaf), pageSize: PAGE });
    open.push({ cache, dev });
    const s0 = cache.stats;
    expect(s0.refusing).toBe(true);
    expect(s0.refusal).toMatch(/hooks source did not report the munmap/);
    const buf = as.mmap(PAGE, { populate: true });
    cache.release(cache.acquire(buf, PAGE, R));
    cache.release(cache.acquire(buf, PAGE, R));
    const s = cache.stats;
    expect([s.uncached, s.registrations, s.deregistrations, s.hitsFast]).toEqual([2, 2, 2, 0]);
  });
});

describe('createRegistrationPolicy', () => {
  it('gives the same face for all four policies; off registers per acquire, the caches hit', () => {
    for (const policy of ['off', 'none', 'hooks', 'notifier'] as const) {
      const memory = new PhysicalMemory({ bytes: 8 * 1024 * 1024, pageSize: PAGE });
      const space = new AddressSpace(memory, { vaBytes: 64 * 1024 * 1024 });
      const dev = new VmDevice(space);
      let charged = 0;
      const provider = createRegistrationPolicy<VmRegistration>(policy, { ops: dev, space, charge: (us) => (charged += us) });
      expect(provider.policy).toBe(policy);
      const buf = space.mmap(2 * PAGE, { populate: true });
      for (let i = 0; i < 3; i++) provider.release(provider.acquire(buf, 2 * PAGE, R));
      const s = provider.stats;
      expect(s.policy).toBe(policy);
      if (policy === 'off') {
        expect([s.uncached, s.registrations, s.deregistrations, s.hitsFast]).toEqual([3, 3, 3, 0]);
        expect(dev.live.size).toBe(0);
        expect(charged).toBe(0);
      } else {
        expect([s.misses, s.hitsFast, s.registrations, s.refusing]).toEqual([1, 2, 1, false]);
        expect(charged).toBeCloseTo(2 * 0.05, 10);
      }
      provider.close();
      expect(dev.live.size).toBe(0);
    }
  });

  it('rejects an unknown policy and a listening policy without a space', () => {
    const dev = new TestDeviceLike();
    expect(() => createRegistrationPolicy('sometimes' as never, { ops: dev, pageSize: PAGE })).toThrow(/policy must be one of off, none, hooks, notifier/);
    expect(() => createRegistrationPolicy('hooks', { ops: dev, pageSize: PAGE })).toThrow(/pass space/);
  });
});

class TestDeviceLike {
  register(): number {
    return 1;
  }
  deregister(): void {}
}
