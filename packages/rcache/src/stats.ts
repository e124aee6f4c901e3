import type { Policy } from './hears.js';

export type { Policy };

/** Counters: one per branch of the cache, so tests can assert exact values. */
export interface RcacheStats {
  policy: Policy;
  /** acquire() calls. */
  gets: number;
  /** release() calls. */
  puts: number;
  /** Hits found by the fast path (nothing pending, one index lookup). */
  hitsFast: number;
  /** Hits found by the slow path (after a drain, or a containing region found while creating). */
  hitsSlow: number;
  /** Acquires that had to register. */
  misses: number;
  /** Acquires served without caching (policy 'off', or a refusing cache): one register per acquire. */
  uncached: number;
  /** Regions folded into a new, larger region. */
  merges: number;
  /** Misses caused by a cached region that covered the range with too little access. */
  upgrades: number;
  /** Overlapping regions dropped from the index by a new region when merging is off. */
  displaced: number;
  /** Unused regions evicted (by limit or to make room after ENOMEM). */
  evictions: number;
  /** Of which evicted because register() failed for lack of lockable memory. */
  evictionsForMemory: number;
  /** register() failures for lack of lockable memory that were followed by an evict-and-retry. */
  memoryRetries: number;
  /** A merged registration failed and the requested range alone was registered instead (UCX's retry). */
  mergeFallbacks: number;
  /** Regions invalidated, whatever told the cache. */
  invalidations: number;
  invalidationsBy: { hooks: number; notifier: number; user: number; overflow: number; fork: number };
  /** Forks of the address space given as purgeOnFork: each invalidated every cached region. */
  forkPurges: number;
  /** Invalidated regions that were in use: deregistered at their last release instead. */
  deferredDeregistrations: number;
  /** Batches taken from the source. */
  drains: number;
  /** Kernel round trips those drains took (notifier: one read per batch; hooks: none). */
  drainBatches: number;
  /** Reports (cookies) drained. */
  reports: number;
  /** Reports for a cookie no longer watched (its region had already left). */
  reportsUnmatched: number;
  /** Times the source's queue overflowed (the cache then dropped everything). */
  overflows: number;
  registrations: number;
  deregistrations: number;
  registrationFailures: number;
  /** Bytes registered, summed over all registrations. */
  bytesRegistered: number;
  /** Regions in the index now, and their bytes. */
  regions: number;
  bytes: number;
  /** Of those, regions held by at least one acquire. */
  regionsInUse: number;
  /** Regions out of the index but still registered because someone holds them. */
  regionsDetached: number;
  /** True when the last limit check could not get under maxRegions/maxBytes (everything left was in use). */
  overLimit: boolean;
  /** Times a limit check ended over the limits. */
  limitExceeded: number;
  /** True when the cache refuses to cache (its source failed the open self-test); `refusal` says why. */
  refusing: boolean;
  refusal: string | undefined;
  /** Modeled time (µs) the cache charged or measured. */
  modeledUs: { hits: number; drains: number; registering: number; deregistering: number };
}

export function emptyStats(policy: Policy): RcacheStats {
  return {
    policy,
    gets: 0,
    puts: 0,
    hitsFast: 0,
    hitsSlow: 0,
    misses: 0,
    uncached: 0,
    merges: 0,
    upgrades: 0,
    displaced: 0,
    evictions: 0,
    evictionsForMemory: 0,
    memoryRetries: 0,
    mergeFallbacks: 0,
    invalidations: 0,
    invalidationsBy: { hooks: 0, notifier: 0, user: 0, overflow: 0, fork: 0 },
    forkPurges: 0,
    deferredDeregistrations: 0,
    drains: 0,
    drainBatches: 0,
    reports: 0,
    reportsUnmatched: 0,
    overflows: 0,
    registrations: 0,
    deregistrations: 0,
    registrationFailures: 0,
    bytesRegistered: 0,
    regions: 0,
    bytes: 0,
    regionsInUse: 0,
    regionsDetached: 0,
    overLimit: false,
    limitExceeded: 0,
    refusing: false,
    refusal: undefined,
    modeledUs: { hits: 0, drains: 0, registering: 0, deregistering: 0 },
  };
}

export function snapshot(s: RcacheStats): RcacheStats {
  return { ...s, invalidationsBy: { ...s.invalidationsBy }, modeledUs: { ...s.modeledUs } };
}
