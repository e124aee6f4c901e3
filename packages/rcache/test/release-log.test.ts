/**
 * The release log (the cache's LRU, src/release-log.ts) against a plain ordered-list model, on random
 * sequences of releases, re-acquires, departures and evictions, with a log small enough to compact often
 * (fast-check); and the cache's eviction order against the same model over many releases.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RegistrationCache, noneSource } from '@tsmpi/rcache';
import { ReleaseLog } from '../src/release-log.js';
import type { Region } from '../src/region.js';
import { PAGE, R, TestDevice } from './fixtures.js';

interface Entry {
  id: number;
  refCount: number;
  listedAt: number;
}

/** The model: listed regions, least recently released first; taking skips (and unlists) those in use. */
class ModelLru {
  list: Entry[] = [];
  append(e: Entry): void {
    this.unlist(e);
    this.list.push(e);
  }
  unlist(e: Entry): void {
    this.list = this.list.filter((x) => x !== e);
  }
  takeOldest(): Entry | undefined {
    for (;;) {
      const e = this.list.shift();
      if (e === undefined || e.refCount === 0) return e;
    }
  }
}

describe('release log', () => {
  it('takes regions in exactly least-recently-released order across compactions (model)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('release' as const), id: fc.nat(11) }),
      fc.record({ kind: fc.constant('acquire' as const), id: fc.nat(11) }),
      fc.record({ kind: fc.constant('leave' as const), id: fc.nat(11) }),
      fc.record({ kind: fc.constant('take' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 600 }), fc.integer({ min: 1, max: 8 }), (ops, minCapacity) => {
        const log = new ReleaseLog<number>(minCapacity);
        const model = new ModelLru();
        const entries: Entry[] = Array.from({ length: 12 }, (_, id) => ({ id, refCount: 1, listedAt: -1 }));
        const region = (e: Entry) => e as unknown as Region<number>;
        const cached = new Set(entries); // a region that left is never released to the log again
        for (const o of ops) {
          if (o.kind === 'take') {
            const got = log.takeOldest() as unknown as Entry | undefined;
            const want = model.takeOldest();
            expect(got?.id).toBe(want?.id);
            if (want !== undefined) cached.delete(want); // evicted: it left
            continue;
          }
          const e = entries[o.id]!;
          if (!cached.has(e)) continue;
          if (o.kind === 'acquire') e.refCount++;
          else if (o.kind === 'release' && e.refCount > 0) {
            if (--e.refCount === 0) {
              log.append(region(e), cached.size);
              model.append(e);
            }
          } else if (o.kind === 'leave') {
            log.unlist(region(e));
            model.unlist(e);
            cached.delete(e);
          }
          // what is listed and unused, in order, agrees (the in-use ones the model still lists are skipped by both)
          expect(log.listed().filter((x) => x.refCount === 0).map((x) => (x as unknown as Entry).id)).toEqual(
            model.list.filter((x) => x.refCount === 0).map((x) => x.id),
          );
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the cache evicts least recently released first after 10^5 releases over 64 regions (many compactions)', () => {
    const dev = new TestDevice();
    const cache = new RegistrationCache<number>({ ops: dev, source: noneSource(), pageSize: PAGE, maxRegions: 64 });
    const A = 1 << 24;
    const at = (p: number) => A + p * 2 * PAGE; // gaps, so nothing merges
    const order: number[] = []; // the model: page slots, least recently released first
    let x = 7;
    for (let i = 0; i < 100_000; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const p = x % 64;
      cache.release(cache.acquire(at(p), PAGE, R));
      const k = order.indexOf(p);
      if (k >= 0) order.splice(k, 1);
      order.push(p);
    }
    expect(cache.stats.regions).toBe(64);
    const evicted: number[] = [];
    cache.on('evict', (r) => evicted.push((r.start - A) / (2 * PAGE)));
    for (let q = 64; q < 128; q++) cache.release(cache.acquire(at(q), PAGE, R)); // each evicts the oldest
    expect(evicted).toEqual(order);
    expect(cache.stats.evictions).toBe(64);
    cache.close();
    expect(dev.live.size).toBe(0);
  });
});
