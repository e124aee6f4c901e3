/**
 * The mmu notifier of one address space (Linux include/linux/mmu_notifier.h, mm/mmu_notifier.c)
 * and the sequence counter that lets other threads translate its pages consistently
 * (mmu_interval_read_begin / mmu_interval_read_retry).
 *
 * Every mapping change on the owner thread runs as
 *
 *     seq++ (now odd) → invalidateRangeStart(r) → change PTEs, put frames → invalidateRangeEnd(r) → seq++ (even)
 *
 * A reader in another thread (an adapter translating this process's pages) follows the retry
 * rule. The interleaving it guards against, drawn as in mmu_notifier.h:
 *
 *   owner thread (munmap)                      reader thread (adapter DMA)
 *                                              seq = readBegin()            // 10, even
 *                                              f = translate(addr)          // frame 7
 *                                              tryPinFrame(7)               // keeps 7 from being reused
 *   seq++                          // 11
 *   invalidateRangeStart(r)        // adapter zaps its own copy
 *   PTE ← NONE; putFrame(7)        // 7 stays allocated: the reader's pin
 *   invalidateRangeEnd(r)
 *   seq++                          // 12
 *                                              copy to/from frame 7
 *                                              if (readRetry(10)) → true: the copy hit a dead
 *                                                 frame; unpinFrame(7), start over (faults now SEGV)
 *                                              unpinFrame(7)
 *
 * readBegin waits while the count is odd, so a reader never starts inside an invalidation; a
 * reader that saw the count change discards what it did. Subscribers run on the owner thread,
 * must not block on a reader, and must not call readBegin (it would wait for itself: Linux has the
 * same rule). Heavy work (deregistration) belongs after the callback, not in it.
 */

/** Linux MMU_NOTIFY_*: UNMAP (munmap, mremap, brk shrink, mmap FIXED), CLEAR (madvise DONTNEED, reclaim),
 *  PROTECTION_VMA (mprotect removing access; fork write-protecting the pages it shares, Linux's
 *  PROTECTION_PAGE), MIGRATE (page migration), RELEASE (exit). 'cow' is ours: a copy-on-write fault
 *  moved one page of this space to a new frame (Linux reports it as CLEAR from wp_page_copy). */
export type InvalidationEvent = 'unmap' | 'clear' | 'protection' | 'migrate' | 'release' | 'cow';

/** The call that caused the change. */
export type Syscall =
  | 'munmap'
  | 'mremap'
  | 'mmap-fixed'
  | 'brk'
  | 'madvise'
  | 'mprotect'
  | 'migrate'
  | 'reclaim'
  | 'exit'
  | 'fork'
  /** a write (or pin / mlock population for write) to a copy-on-write page */
  | 'write-fault';

export interface InvalidationRange {
  /** page-aligned */
  start: number;
  /** page-aligned, exclusive */
  end: number;
  event: InvalidationEvent;
  cause: Syscall;
}

/**
 * Contract: called on the owner thread, synchronously, inside the change. invalidateRangeStart
 * runs before any PTE in [start, end) changes and the old frames are still mapped; after it
 * returns, the subscriber must no longer use translations of the range it obtained earlier.
 * invalidateRangeEnd runs after the change. Neither may call a syscall of this address space.
 * release() runs once at exit, before the pages go; no event follows it.
 */
export interface MmuNotifierSubscriber {
  invalidateRangeStart(r: InvalidationRange): void;
  invalidateRangeEnd(r: InvalidationRange): void;
  release(): void;
}

export interface MmuNotifierStats {
  unmap: number;
  clear: number;
  protection: number;
  migrate: number;
  release: number;
  cow: number;
  /** changes that ran with no subscriber or over unpopulated pages: no callback made */
  skipped: number;
}

export class MmuNotifier {
  private subs: MmuNotifierSubscriber[] = [];
  readonly counts: MmuNotifierStats = { unmap: 0, clear: 0, protection: 0, migrate: 0, release: 0, cow: 0, skipped: 0 };

  /** Returns the unsubscribe function. */
  subscribe(s: MmuNotifierSubscriber): () => void {
    this.subs = [...this.subs, s];
    return () => {
      this.subs = this.subs.filter((x) => x !== s);
    };
  }

  get subscribers(): number {
    return this.subs.length;
  }

  /** @internal */
  invalidateRangeStart(r: InvalidationRange): void {
    this.counts[r.event]++;
    for (const s of this.subs) s.invalidateRangeStart(r);
  }

  /** @internal */
  invalidateRangeEnd(r: InvalidationRange): void {
    for (const s of this.subs) s.invalidateRangeEnd(r);
  }

  /** @internal exit: every subscriber's release(), then none remain. */
  release(): void {
    const subs = this.subs;
    this.subs = [];
    if (subs.length > 0) this.counts.release++;
    for (const s of subs) s.release();
  }
}
