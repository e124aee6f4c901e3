/**
 * Ummunotify finds the watches an invalidation overlaps through an interval index instead of a scan.
 * These tests hold it to the scan it replaced: a brute-force pass over every live watch, in
 * registration order, against the ranges the mmu notifier really delivered.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AddressSpace, PhysicalMemory, Ummunotify, type InvalidationRange } from '@tsmpi/vm';
import { RangeNode, WatchIndex } from '../src/watch-index.js';

const PS = 4096;
const PAGES = 16;

type Op =
  | { k: 'register'; start: number; len: number }
  | { k: 'unregister'; which: number }
  | { k: 'invalidate'; page: number; pages: number };

// Byte-granular watches over (and a little beyond) a 16-page mapping: most overlap many others.
const span = PAGES * PS;
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ k: fc.constant('register' as const), start: fc.integer({ min: -PS, max: span }), len: fc.integer({ min: 1, max: span / 2 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('register' as const), start: fc.integer({ min: 0, max: span - 1 }), len: fc.integer({ min: 1, max: 8 }) }) },
  // page-aligned watches meet invalidation ranges edge to edge: [x, y) and [y, z) must not overlap
  { weight: 6, arbitrary: fc.record({ k: fc.constant('register' as const), start: fc.integer({ min: -1, max: PAGES }).map((p) => p * PS), len: fc.integer({ min: 1, max: 8 }).map((p) => p * PS) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('unregister' as const), which: fc.nat({ max: 10_000 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('invalidate' as const), page: fc.nat({ max: PAGES - 1 }), pages: fc.integer({ min: 1, max: 8 }) }) },
);

interface ModelWatch {
  start: number;
  end: number;
  cookie: number;
}

describe('Ummunotify with many overlapping watches', () => {
  it('reports exactly the overlapping cookies, in registration order, as a scan of every watch would', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 300 }), (ops) => {
        const memory = new PhysicalMemory({ bytes: 256 * PS, swapBytes: 16 * PS });
        const space = new AddressSpace(memory, { vaBytes: 64 * 1024 * 1024 });
        const umn = new Ummunotify(space, { capacity: 4096 });
        const delivered: InvalidationRange[] = [];
        space.mmuNotifier.subscribe({ invalidateRangeStart: (r) => void delivered.push(r), invalidateRangeEnd: () => {}, release: () => {} });
        const base = space.mmap(span, { populate: true });
        // live watches in registration order: the model of the old scan over a Map
        const live: ModelWatch[] = [];
        let nextCookie = 1;
        let events = 0;
        let queued = 0;
        for (const o of ops) {
          if (o.k === 'register') {
            const w = { start: base + o.start, end: base + o.start + o.len, cookie: nextCookie++ };
            umn.register(w.start, w.end, w.cookie);
            live.push(w);
          } else if (o.k === 'unregister') {
            if (live.length === 0) continue;
            const [w] = live.splice(o.which % live.length, 1);
            umn.unregister(w!.cookie);
          } else {
            const pages = Math.min(o.pages, PAGES - o.page);
            const g0 = umn.generation;
            delivered.length = 0;
            space.madvise(base + o.page * PS, pages * PS, 'dontneed');
            space.fill(base, span, 1); // repopulate, so the next madvise raises an event again
            expect(delivered).toEqual([expect.objectContaining({ start: base + o.page * PS, end: base + (o.page + pages) * PS })]);
            const r = delivered[0]!;
            const expected = live.filter((w) => w.start < r.end && r.start < w.end).map((w) => w.cookie);
            const got = umn.drain();
            expect(got).toEqual(expected);
            if (expected.length > 0) events++;
            queued += expected.length;
            expect(umn.generation).toBe(g0 + (expected.length > 0 ? 1 : 0));
          }
        }
        expect(umn.stats).toMatchObject({ events, queued, drained: queued, collapsed: 0, overflows: 0, registered: live.length, pending: 0 });
        umn.close();
      }),
      { numRuns: 150 },
    );
  });

  it('queues overlapping cookies in registration order when the queue fills, as the scan did', () => {
    const memory = new PhysicalMemory({ bytes: 64 * PS, swapBytes: 16 * PS });
    const space = new AddressSpace(memory, { vaBytes: 64 * 1024 * 1024 });
    const umn = new Ummunotify(space, { capacity: 2 });
    const a = space.mmap(4 * PS, { populate: true });
    //   cookie 1:            [--------)        page 3
    //   cookie 2:  [------------------------)  pages 0-3
    //   cookie 3:       [----)                 page 1
    //   cookie 4:  [----)                      page 0
    umn.register(a + 3 * PS, a + 4 * PS, 1);
    umn.register(a, a + 4 * PS, 2);
    umn.register(a + PS, a + 2 * PS, 3);
    umn.register(a, a + PS, 4);
    space.munmap(a, 4 * PS);
    expect(umn.overflowed).toBe(true);
    expect(umn.stats).toMatchObject({ events: 1, queued: 2, overflows: 2, pending: 2 });
    expect(umn.drain()).toEqual([1, 2]);
  });

  it('a re-registered cookie queues in its new place, after watches registered before it', () => {
    const memory = new PhysicalMemory({ bytes: 64 * PS, swapBytes: 16 * PS });
    const space = new AddressSpace(memory, { vaBytes: 64 * 1024 * 1024 });
    const umn = new Ummunotify(space);
    const a = space.mmap(2 * PS, { populate: true });
    umn.register(a, a + 2 * PS, 1);
    umn.register(a + PS, a + 2 * PS, 2);
    umn.unregister(1);
    umn.unregister(1); // a second unregister is a no-op
    umn.register(a, a + PS, 1);
    space.munmap(a, 2 * PS);
    expect(umn.drain()).toEqual([2, 1]);
    expect(umn.stats).toMatchObject({ events: 1, queued: 2, registered: 2 });
  });
});

describe('WatchIndex', () => {
  it('finds one page among 10^4 disjoint watches by entering a few dozen nodes, not 10^4', () => {
    const index = new WatchIndex<RangeNode>();
    const n = 10_000;
    const nodes: RangeNode[] = [];
    for (let i = 0; i < n; i++) {
      const node = new RangeNode(2 * i * PS, (2 * i + 1) * PS, i);
      nodes.push(node);
      index.insert(node);
    }
    let entered = 0;
    for (const i of [0, 1, 4_999, 9_998, 9_999]) {
      const out: RangeNode[] = [];
      const v0 = index.visited;
      index.overlapping(2 * i * PS, (2 * i + 1) * PS, out);
      expect(out).toEqual([nodes[i]]);
      entered = Math.max(entered, index.visited - v0);
    }
    expect(entered).toBeGreaterThan(0);
    expect(entered).toBeLessThan(100);
    // a query over the gap pages finds nothing
    const none: RangeNode[] = [];
    index.overlapping(PS, 2 * PS, none);
    expect(none).toEqual([]);
    for (let i = 0; i < n; i += 2) index.remove(nodes[i]!);
    expect(index.size).toBe(n / 2);
    const all: RangeNode[] = [];
    index.overlapping(0, 2 * n * PS, all);
    expect(all.map((x) => x.seq)).toEqual(nodes.filter((_, i) => i % 2 === 1).map((x) => x.seq));
  });

  it('agrees with a scan after random inserts and removes of overlapping ranges', () => {
    fc.assert(
      fc.property(
        // a small grid, so that ranges often share a start or meet a query edge to edge
        fc.array(fc.tuple(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 1, max: 30 }), fc.boolean()), { maxLength: 200 }),
        fc.array(fc.tuple(fc.integer({ min: -5, max: 130 }), fc.integer({ min: 1, max: 40 })), { minLength: 1, maxLength: 20 }),
        (steps, queries) => {
          const index = new WatchIndex<RangeNode>();
          const live: RangeNode[] = [];
          let seq = 0;
          for (const [start, len, removeOne] of steps) {
            if (removeOne && live.length > 0) {
              const [x] = live.splice(start % live.length, 1);
              index.remove(x!);
            } else {
              const x = new RangeNode(start, start + len, seq++);
              live.push(x);
              index.insert(x);
            }
          }
          expect(index.size).toBe(live.length);
          for (const [a, len] of queries) {
            const out: RangeNode[] = [];
            index.overlapping(a, a + len, out);
            const expected = live
              .filter((x) => x.start < a + len && a < x.end)
              .sort((x, y) => x.start - y.start || x.seq - y.seq);
            expect(out).toEqual(expected);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
