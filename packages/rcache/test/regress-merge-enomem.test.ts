/**
 * Issue 15.1: a merged registration that runs out of lockable memory is retried for the requested
 * range alone (as UCX retries after any failure of a merged registration).
 *
 *   limit 64 KiB (16 pages)
 *   held:     [H H H H H]                          pages 0-4 (20 KiB), in use, cannot be evicted
 *   request:          [Q Q Q Q Q Q Q Q Q Q]        pages 4-13 (40 KiB), overlapping by one page
 *   merged:   [. . . . . . . . . . . . . .]        pages 0-13 (56 KiB): 20 + 56 > 64 → ENOMEM
 *   instead:          [Q Q Q Q Q Q Q Q Q Q]        the request alone: 20 + 40 ≤ 64
 */
import { describe, expect, it } from 'vitest';
import { RegistrationCache, noneSource } from '@tsmpi/rcache';
import { PAGE, R, TestDevice } from './fixtures.js';

const A = 0x10_0000;

describe('a merged registration that fails with ENOMEM', () => {
  it('is retried for the requested range alone: the 10-page request registered, mergeFallbacks = 1', () => {
    const dev = new TestDevice(64 * 1024);
    const cache = new RegistrationCache<number>({ ops: dev, source: noneSource(), pageSize: PAGE });
    const held = cache.acquire(A, 5 * PAGE, R);
    const q = cache.acquire(A + 4 * PAGE, 10 * PAGE, R);
    expect([q.start, q.end]).toEqual([A + 4 * PAGE, A + 14 * PAGE]);
    expect(cache.stats.mergeFallbacks).toBe(1);
    expect([...dev.live.values()].map((r) => [r.start, r.end])).toEqual([[A, A + 5 * PAGE], [A + 4 * PAGE, A + 14 * PAGE]]);
    expect(dev.lockedBytes).toBe(60 * 1024);
    cache.release(q);
    cache.release(held);
    cache.close();
    expect(dev.live.size).toBe(0);
  });
});
