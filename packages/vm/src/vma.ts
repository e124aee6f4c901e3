/**
 * Virtual memory areas of one address space: private to the owner thread (other threads see
 * only the page table). Kept as a sorted array of disjoint [start, end) areas; adjacent areas
 * with the same attributes are merged, as Linux's vma_merge does for anonymous memory.
 */
export interface Vma {
  start: number;
  end: number;
  prot: number;
  /** mlock()ed: pages stay resident (reclaim refuses them) */
  locked: boolean;
  /** the brk heap (never merged with an mmap area) */
  heap: boolean;
  /** madvise(MADV_DONTFORK): fork() leaves this area out of the child */
  dontfork: boolean;
}

export class VmaList {
  private areas: Vma[] = [];

  get count(): number {
    return this.areas.length;
  }

  all(): readonly Vma[] {
    return this.areas;
  }

  /** Index of the first area whose end > addr. */
  private lowerBound(addr: number): number {
    let lo = 0;
    let hi = this.areas.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.areas[mid]!.end <= addr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  find(addr: number): Vma | undefined {
    const a = this.areas[this.lowerBound(addr)];
    return a !== undefined && a.start <= addr ? a : undefined;
  }

  /** Areas intersecting [start, end), in address order. */
  overlapping(start: number, end: number): Vma[] {
    const out: Vma[] = [];
    for (let i = this.lowerBound(start); i < this.areas.length; i++) {
      const a = this.areas[i]!;
      if (a.start >= end) break;
      out.push(a);
    }
    return out;
  }

  /** True when [start, end) is covered by areas with no hole. */
  covers(start: number, end: number): boolean {
    let at = start;
    for (const a of this.overlapping(start, end)) {
      if (a.start > at) return false;
      at = a.end;
    }
    return at >= end;
  }

  isFree(start: number, end: number): boolean {
    return this.overlapping(start, end).length === 0;
  }

  /** Make addr an area boundary (split the area containing it). */
  split(addr: number): void {
    const i = this.lowerBound(addr);
    const a = this.areas[i];
    if (a === undefined || a.start >= addr) return;
    const tail: Vma = { ...a, start: addr };
    a.end = addr;
    this.areas.splice(i + 1, 0, tail);
  }

  /** Remove everything in [start, end); returns the removed pieces. */
  remove(start: number, end: number): Vma[] {
    this.split(start);
    this.split(end);
    const i = this.lowerBound(start);
    let j = i;
    while (j < this.areas.length && this.areas[j]!.start < end) j++;
    return this.areas.splice(i, j - i);
  }

  /** Insert an area over free space, merging with equal neighbours. */
  insert(v: Vma): void {
    const i = this.lowerBound(v.start);
    this.areas.splice(i, 0, { ...v });
    this.mergeAround(i);
  }

  /** Apply `change` to every area piece inside [start, end) (splitting at the edges), then re-merge. */
  update(start: number, end: number, change: (v: Vma) => void): void {
    this.split(start);
    this.split(end);
    let i = this.lowerBound(start);
    const first = i;
    while (i < this.areas.length && this.areas[i]!.start < end) change(this.areas[i++]!);
    for (let k = Math.min(i, this.areas.length - 1); k >= Math.max(first - 1, 0); k--) this.mergeAround(k);
  }

  private mergeAround(i: number): void {
    const same = (a: Vma, b: Vma): boolean =>
      a.end === b.start && a.prot === b.prot && a.locked === b.locked && a.heap === b.heap && a.dontfork === b.dontfork;
    const a = this.areas[i];
    if (a === undefined) return;
    const next = this.areas[i + 1];
    if (next !== undefined && same(a, next)) {
      a.end = next.end;
      this.areas.splice(i + 1, 1);
    }
    const prev = this.areas[i - 1];
    if (prev !== undefined && same(prev, a)) {
      prev.end = a.end;
      this.areas.splice(i, 1);
    }
  }

  /**
   * Linux's unmapped_area_topdown: the highest gap inside [low, high) that holds `length`;
   * returns the start of the area placed at the top of that gap, or -1.
   */
  findTopDown(length: number, low: number, high: number): number {
    let gapEnd = high;
    for (let i = this.areas.length - 1; i >= -1; i--) {
      const a = i >= 0 ? this.areas[i] : undefined;
      if (a !== undefined && a.start >= high) continue;
      const gapStart = a === undefined ? low : Math.max(a.end, low);
      if (gapEnd - gapStart >= length) return gapEnd - length;
      if (a === undefined) break;
      gapEnd = Math.min(gapEnd, a.start);
      if (gapEnd <= low) break;
    }
    return -1;
  }
}
