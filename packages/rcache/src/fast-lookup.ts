import type { IntervalIndex } from './interval-index.js';
import type { Region } from './region.js';

const MIN_BITS = 12;
/** 2^23 slots (32 MiB of pointers) serve 4 million regions at two slots each; past that aliasing grows. */
const MAX_BITS = 23;
/** Fibonacci hashing (Knuth): neighbouring and evenly spaced page numbers spread over the whole table. */
const GOLDEN = 0x9e3779b1;

/**
 * A software TLB in front of the interval index: a direct-mapped table, slot = page number & mask,
 * holding the region that contained that page when last looked up. The AVL index stays the authority
 * (O(log n): ~14 levels of pointer chasing at 10^4 regions, ~100 ns on the shared 2-core host); a slot
 * costs one array load.
 *
 *   addr ──page──▶ slots[hash(page)] ──▶ region?  cached && start <= addr < end ? hit : walk the tree
 *
 * Nothing is invalidated eagerly: a slot is trusted only if its region is still cached and contains addr.
 * Cached regions never overlap and never change range, so such a region is the only one that can contain
 * addr. A slot whose region left, or that aliases another page, falls through to the tree and is
 * overwritten. The slot is the top bits of the page number times 2^32/φ, so regions every other page
 * (or every 2^k pages) still use the whole table, as `page & mask` would not; a page number above 2^32
 * wraps in the multiply, which only changes which pages alias.
 * The table grows with the cache — about two slots per cached region, 2^12 to 2^23 slots — so that
 * aliasing stays rare up to millions of regions (at 2^18 slots, 10^6 regions missed to the tree on most
 * lookups: 1.4 µs a hit); growing drops the hints, which refill on the next lookups.
 *
 * Mutated by the owner thread's cache calls only.
 */
export class PageHints<H> {
  private slots: Array<Region<H> | undefined> = new Array<Region<H> | undefined>(1 << MIN_BITS).fill(undefined);
  private shift = 32 - MIN_BITS;
  /** 1 / pageSize: exact for a power of two, and a multiply is cheaper than a divide. */
  private readonly perPage: number;

  constructor(
    private readonly index: IntervalIndex<Region<H>>,
    pageSize: number,
  ) {
    this.perPage = 1 / pageSize;
  }

  /** The cached region containing addr, if any. */
  find(addr: number): Region<H> | undefined {
    const page = Math.floor(addr * this.perPage);
    const slot = Math.imul(page, GOLDEN) >>> this.shift;
    const hinted = this.slots[slot];
    // in page numbers, not addresses (region.ts): firstPage <= page < endPage is exactly start <= addr < end
    if (hinted !== undefined && hinted.cached && hinted.firstPage <= page && page < hinted.endPage) return hinted;
    return this.walk(addr, slot);
  }

  /** The tree walk behind a missed hint, out of line so that find() stays small enough to inline. */
  private walk(addr: number, slot: number): Region<H> | undefined {
    const found = this.index.find(addr);
    if (found !== undefined) this.slots[slot] = found;
    return found;
  }

  /** Called by the slow path as regions are added: keep about two slots per region. */
  fit(regions: number): void {
    let bits = 32 - this.shift;
    if (bits >= MAX_BITS || regions * 2 <= 1 << bits) return;
    while (regions * 2 > 1 << bits && bits < MAX_BITS) bits++;
    this.slots = new Array<Region<H> | undefined>(1 << bits).fill(undefined);
    this.shift = 32 - bits;
  }
}
