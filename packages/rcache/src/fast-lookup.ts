import type { IntervalIndex } from './interval-index.js';
import type { Region } from './region.js';

/**
 * A software TLB in front of the interval index: page number → the region that contained it when last
 * looked up. The AVL index stays the authority (O(log n), ~14 levels of pointer chasing at 10^4 regions,
 * ~100 ns on a shared 2-core host); a Map hit costs ~15 ns.
 *
 * Entries are never invalidated eagerly. An entry is trusted only if its region is still cached: regions
 * never overlap and their range never changes, so a cached region that once contained the page still
 * does and is the only one that can. A stale entry (its region left) falls through to the index and is
 * overwritten. The map is cleared when it outgrows `capacity`, which bounds its memory.
 *
 * Mutated by the owner thread's cache calls only.
 */
export class PageHints<H> {
  private readonly hints = new Map<number, Region<H>>();

  constructor(
    private readonly index: IntervalIndex<Region<H>>,
    private readonly pageSize: number,
    private readonly capacity = 1 << 16,
  ) {}

  /** The cached region containing addr, if any. */
  find(addr: number): Region<H> | undefined {
    const page = Math.floor(addr / this.pageSize);
    const hinted = this.hints.get(page);
    if (hinted !== undefined && hinted.cached) return hinted;
    const found = this.index.find(addr);
    if (found !== undefined) {
      if (this.hints.size >= this.capacity) this.hints.clear();
      this.hints.set(page, found);
    }
    return found;
  }

  clear(): void {
    this.hints.clear();
  }
}
