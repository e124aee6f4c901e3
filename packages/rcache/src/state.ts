import type { EventEmitter } from 'eventemitter3';
import type { LRUCache } from 'lru-cache';
import type { RcacheEvents } from './events.js';
import type { IntervalIndex } from './interval-index.js';
import type { PageHints } from './fast-lookup.js';
import type { RcacheClock, RcacheCost, Registrar } from './ops.js';
import type { Region } from './region.js';
import type { InvalidationSource } from './sources/source.js';
import type { RcacheStats } from './stats.js';

export type MergeMode = boolean | 'adjacent';

/**
 * Everything one cache owns. All of it lives on the owner thread and is mutated only by the cache's own
 * calls (acquire, release, invalidate, flush, close) — never by a source callback, which only queues.
 */
export interface CacheState<H> {
  readonly owner: object;
  readonly registrar: Registrar<H>;
  readonly source: InvalidationSource;
  /** Cached (findable) regions; non-overlapping. */
  readonly index: IntervalIndex<Region<H>>;
  /** Page → region hints in front of the index (fast-lookup.ts). */
  readonly hints: PageHints<H>;
  /**
   * Unused cached regions, least recently released first. A region acquired again stays listed (a delete
   * per hit would double the hit cost); eviction skips and unlists regions it finds in use, and release()
   * lists them again.
   */
  readonly lru: LRUCache<Region<H>, Region<H>>;
  /**
   * Releases not yet applied to the LRU, oldest first (the read-buffer idea of Caffeine and
   * ConcurrentLinkedHashMap): release() appends here instead of paying an lru.set() per hit, and syncLru()
   * replays the buffer — only each region's latest release, in order — before anything reads the LRU, so
   * eviction order is exactly least-recently-released. recent[i] (i < recentCount) was released at tick
   * recentFirstTick + i. It holds up to recentCapacity releases — max(4096, 4 × regions) at the last
   * replay, so that a replay applies about one lru.set per distinct region rather than one per release.
   */
  readonly recent: Array<Region<H> | undefined>;
  recentCount: number;
  recentCapacity: number;
  recentFirstTick: number;
  tick: number;
  /** Watch cookie → region, for the drains. */
  readonly byCookie: Map<number, Region<H>>;
  /** Registered regions out of the index that someone still holds (detached or pin-per-op). */
  readonly held: Set<Region<H>>;
  readonly stats: RcacheStats;
  readonly events: EventEmitter<RcacheEvents>;
  readonly clock: RcacheClock;
  readonly cost: RcacheCost;
  readonly pageSize: number;
  readonly maxRegions: number;
  readonly maxBytes: number;
  readonly merge: MergeMode;
  /** False for policy 'off' and for a cache whose source failed the self-test: register per acquire. */
  caching: boolean;
  closed: boolean;
}
