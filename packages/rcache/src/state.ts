import type { EventEmitter } from 'eventemitter3';
import type { RcacheEvents } from './events.js';
import type { IntervalIndex } from './interval-index.js';
import type { PageHints } from './fast-lookup.js';
import type { RcacheClock, RcacheCost, Registrar } from './ops.js';
import type { Region } from './region.js';
import type { ReleaseLog } from './release-log.js';
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
   * Unused cached regions, least recently released first, as the log of releases (release-log.ts). A region
   * acquired again stays listed (unlisting per hit would cost a write to the log per hit); eviction skips
   * and unlists regions it finds in use, and release() lists them again.
   */
  readonly released: ReleaseLog<H>;
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
