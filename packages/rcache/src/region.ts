/** What acquire() hands out: a ref-counted registration covering (at least) the requested pages. */
export interface Registration<H> {
  /** Page-aligned first address covered. */
  readonly start: number;
  /** Page-aligned end (exclusive). May be larger than the request when regions were merged. */
  readonly end: number;
  /** Access bits registered (a superset of what was asked for). */
  readonly access: number;
  /** What the ops' register() returned (an MR, an lkey, ...). */
  readonly handle: H;
  /** Holders now; the cache never evicts or deregisters a region while this is above zero. */
  readonly refCount: number;
  /** True once an invalidation reached this region: it is out of the index and dies at its last release. */
  readonly invalidated: boolean;
}

/**
 * The cache's record of one registration. Mutated only by the cache that owns it, on the owner thread:
 * refCount by acquire/release; cached/inLru/cookie by the slow path and drains; never by a source callback.
 */
export class Region<H> implements Registration<H> {
  refCount = 0;
  invalidated = false;
  /** In the index (findable). False once evicted, merged away, displaced, invalidated or refused-mode. */
  cached = false;
  /** Registered with the ops and not yet deregistered. */
  registered = false;
  /** Listed in the LRU. In-use regions may stay listed (eviction skips them); see CacheState.lru. */
  inLru = false;
  /** Release tick of this region's latest release to zero (see CacheState.recent). */
  lastRelease = 0;
  /** The source's cookie for this region's watch; 0 when not watched. */
  cookie = 0;
  handle!: H;

  constructor(
    readonly owner: object,
    readonly start: number,
    readonly end: number,
    readonly access: number,
  ) {}

  get bytes(): number {
    return this.end - this.start;
  }
}
