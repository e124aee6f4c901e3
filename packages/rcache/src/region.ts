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
 * refCount by acquire/release; cached/listedAt/cookie by the slow path and drains; never by a source callback.
 *
 * Field order is the object's layout: a hit reads refCount, cached, firstPage, endPage and access, and a
 * release owner and listedAt, so they come first and share the object's first cache line or two. The hit
 * compares page numbers, not addresses: an address of 2^31 or more is a boxed heap number in V8 (one more
 * dependent cache miss per read; at 10^6 regions every lookup paid two), while a page number stays a small
 * integer (smallInteger below) up to 4 TiB of 4 KiB pages. start and end are derived for the same reason.
 */
export class Region<H> implements Registration<H> {
  declare refCount: number;
  /** In the index (findable). False once evicted, merged away, displaced, invalidated or refused-mode. */
  declare cached: boolean;
  /** start / pageSize and end / pageSize. */
  declare readonly firstPage: number;
  declare readonly endPage: number;
  declare readonly access: number;
  declare readonly owner: object;
  /** Position of this region's latest release in the release log (release-log.ts); -1 when not listed. */
  declare listedAt: number;
  declare invalidated: boolean;
  /** Registered with the ops and not yet deregistered. */
  declare registered: boolean;
  /** The source's cookie for this region's watch; 0 when not watched. */
  declare cookie: number;
  declare readonly pageSize: number;
  declare handle: H;

  constructor(owner: object, start: number, end: number, access: number, pageSize: number) {
    this.refCount = 0;
    this.cached = false;
    this.firstPage = smallInteger(start / pageSize);
    this.endPage = smallInteger(end / pageSize);
    this.access = access;
    this.owner = owner;
    this.listedAt = -1;
    this.invalidated = false;
    this.registered = false;
    this.cookie = 0;
    this.pageSize = pageSize;
    this.handle = undefined as H;
  }

  /** Page-aligned start, derived: stored, an address of 2^31 or more would be one more boxed number per region. */
  get start(): number {
    return this.firstPage * this.pageSize;
  }

  get end(): number {
    return this.endPage * this.pageSize;
  }

  get bytes(): number {
    return (this.endPage - this.firstPage) * this.pageSize;
  }
}

/** Largest value V8 keeps unboxed (a Smi) on every build, pointer compression included. */
const SMI_MAX = 2 ** 30 - 1;

/**
 * The same number, as a Smi when it is one: a division yields a heap number even when the result is a small
 * integer, and a field that once held a heap number stays boxed for every region. `| 0` makes it an int32.
 */
function smallInteger(n: number): number {
  return n <= SMI_MAX ? n | 0 : n;
}
