import type { Region } from './region.js';

/** Smallest log (entries) between compactions. */
export const MIN_LOG_CAPACITY = 4096;

/**
 * The LRU of unused cached regions, least recently released first, kept as the log of releases itself.
 * release() appends the region and records where (`listedAt`); an entry counts only while it is its
 * region's latest (`listedAt` is its position), so a region released again simply moves to the end, and
 * one that leaves the cache is unlisted by setting `listedAt` to -1 — nothing is searched or moved on a
 * hit. Eviction takes entries from the front, skipping the stale ones and the regions in use (acquired
 * again since: their next release lists them again). When the log reaches max(4096, 4 × regions)
 * entries it is compacted in place, keeping the live entries in order, so memory stays bounded and a
 * release costs O(1) amortised.
 *
 * It replaces lru-cache behind a release buffer: that kept the same order, but replaying the buffer paid a
 * Map lookup and a linked-list move per region (~150 ns at 10^5 regions) and a Map entry per region.
 * Eviction order is exactly least-recently-released, as before (cache-core.test.ts, release-log.test.ts).
 */
export class ReleaseLog<H> {
  private entries: Array<Region<H> | undefined> = [];
  /** Entries before head were taken by eviction. */
  private head = 0;
  private length = 0;
  private capacity: number;

  /** minCapacity: the log's size before its first compaction (tests make it small to compact often). */
  constructor(private readonly minCapacity = MIN_LOG_CAPACITY) {
    this.capacity = minCapacity;
  }

  /** A release to zero: the region becomes the most recently released. `regions` (cached now) sizes the log. */
  append(r: Region<H>, regions: number): void {
    if (this.length >= this.capacity) this.compact(regions);
    r.listedAt = this.length;
    this.entries[this.length++] = r;
  }

  /** The region left the cache (or is about to): it is no longer a candidate. */
  unlist(r: Region<H>): void {
    r.listedAt = -1;
  }

  /** Takes the least recently released unused region, or undefined when none is listed. */
  takeOldest(): Region<H> | undefined {
    const entries = this.entries;
    while (this.head < this.length) {
      const i = this.head++;
      const r = entries[i] as Region<H>;
      entries[i] = undefined;
      if (r.listedAt !== i) continue; // released again later, or left the cache
      r.listedAt = -1;
      if (r.refCount > 0) continue; // acquired again since; its next release lists it again
      return r;
    }
    this.head = 0;
    this.length = 0;
    return undefined;
  }

  /** Live entries, oldest first (tests and dump). */
  listed(): Array<Region<H>> {
    const out: Array<Region<H>> = [];
    for (let i = this.head; i < this.length; i++) {
      const r = this.entries[i] as Region<H>;
      if (r.listedAt === i) out.push(r);
    }
    return out;
  }

  /** Moves the live entries to the front, in order; every cached region has at most one, so ≤ regions remain. */
  private compact(regions: number): void {
    const entries = this.entries;
    let kept = 0;
    for (let i = this.head; i < this.length; i++) {
      const r = entries[i] as Region<H>;
      entries[i] = undefined;
      if (r.listedAt !== i) continue;
      r.listedAt = kept;
      entries[kept++] = r;
    }
    this.head = 0;
    this.length = kept;
    this.capacity = Math.max(this.minCapacity, 4 * regions, 2 * kept);
  }
}
