import type { IntervalIndex } from './interval-index.js';
import type { Region } from './region.js';

const MIN_SLOTS = 1 << 12;
const MAX_SLOTS = 1 << 18;

/**
 * A software TLB in front of the interval index: a direct-mapped table, slot = page number & mask,
 * holding the region that contained that page when last looked up. The AVL index stays the authority
 * (O(log n): ~14 levels of pointer chasing at 10^4 regions, ~100 ns on the shared 2-core host); a slot
 * costs one array load.
 *
 *   addr ──page──▶ slots[page & mask] ──▶ region?  cached && start <= addr < end ? hit : walk the tree
 *
 * Nothing is invalidated eagerly: a slot is trusted only if its region is still cached and contains addr.
 * Cached regions never overlap and never change range, so such a region is the only one that can contain
 * addr. A slot whose region left, or that aliases another page, falls through to the tree and is
 * overwritten. (`& mask` on a page number above 2^31 wraps, which only changes which pages alias.)
 * The table grows with the cache — about two slots per cached region, 2^12 to 2^18 slots — so that
 * aliasing stays rare; growing drops the hints, which refill on the next lookups.
 *
 * Mutated by the owner thread's cache calls only.
 */
export class PageHints<H> {
  private slots: Array<Region<H> | undefined> = new Array<Region<H> | undefined>(MIN_SLOTS).fill(undefined);
  private mask = MIN_SLOTS - 1;

  constructor(
    private readonly index: IntervalIndex<Region<H>>,
    private readonly pageSize: number,
  ) {}

  /** The cached region containing addr, if any. */
  find(addr: number): Region<H> | undefined {
    const slot = Math.floor(addr / this.pageSize) & this.mask;
    const hinted = this.slots[slot];
    if (hinted !== undefined && hinted.cached && hinted.start <= addr && addr < hinted.end) return hinted;
    const found = this.index.find(addr);
    if (found !== undefined) this.slots[slot] = found;
    return found;
  }

  /** Called by the slow path as regions are added: keep about two slots per region. */
  fit(regions: number): void {
    const size = this.mask + 1;
    if (size >= MAX_SLOTS || regions * 2 <= size) return;
    let next = size;
    while (next < regions * 2 && next < MAX_SLOTS) next *= 2;
    this.slots = new Array<Region<H> | undefined>(next).fill(undefined);
    this.mask = next - 1;
  }
}
