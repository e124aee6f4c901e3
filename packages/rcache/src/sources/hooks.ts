import { IntervalIndex } from '../interval-index.js';
import type { DrainedReports, InvalidationSource, SelfTestProbe } from './source.js';

/**
 * What the hooks source needs from an address space (@tsmpi/vm's AddressSpace has it): the library-level
 * call hooks, and mmap/munmap for the open-time self-test.
 */
export interface HookableSpace {
  readonly pageSize: number;
  mmap(length: number, opts?: { populate?: boolean }): number;
  munmap(addr: number, length: number): void;
  readonly memoryHooks: {
    on(listener: (e: { call: string; start: number; end: number }) => void): () => void;
  };
}

interface Watch {
  readonly start: number;
  readonly end: number;
  readonly cookie: number;
}

/**
 * Invalidations from interception of library-level calls (munmap, mremap, mmap FIXED, madvise, brk shrink),
 * as Open MPI's memory/patcher and UCX's ucm do. Kernel-initiated changes (migration, reclaim) are not
 * calls anyone can intercept, so this source never hears them — on purpose: that is the gap it shows.
 *
 * Bounded queue: the callback queues the cookie of each watched range the call intersects, in a set, so
 * however many munmap/mmap cycles run between two cache calls, the queue holds at most one entry per
 * watched range (UCX PR #5131's lesson: queueing raw ranges grew without bound with no cache call).
 */
class HooksSource implements InvalidationSource {
  readonly kind = 'hooks' as const;
  /** Watched ranges; owned by this source, mutated by watch/unwatch (cache calls) only, read by the callback. */
  private readonly watches = new IntervalIndex<Watch>();
  private readonly byCookie = new Map<number, Watch>();
  /** Cookies reported since the last drain. Written by the callback, emptied by drain(). */
  private readonly queue = new Set<number>();
  private nextCookie = 1;
  private readonly unsubscribe: () => void;
  /** Calls heard (whether or not they hit a watched range). */
  heard = 0;

  constructor(private readonly space: HookableSpace) {
    this.unsubscribe = space.memoryHooks.on((e) => this.onCall(e.start, e.end));
  }

  /** The hook callback: runs inside the user's munmap/mremap/...; only queues, never calls the cache. */
  private onCall(start: number, end: number): void {
    this.heard++;
    if (this.watches.size === 0) return;
    this.watches.forEachOverlapping(start, end, (w) => this.queue.add(w.cookie));
  }

  probe(): SelfTestProbe {
    const size = this.space.pageSize;
    const start = this.space.mmap(size, { populate: true });
    return { start, end: start + size, fire: () => this.space.munmap(start, size) };
  }

  watch(start: number, end: number): number {
    const w: Watch = { start, end, cookie: this.nextCookie++ };
    this.watches.insert(w);
    this.byCookie.set(w.cookie, w);
    return w.cookie;
  }

  unwatch(cookie: number): void {
    const w = this.byCookie.get(cookie);
    if (w === undefined) return;
    this.byCookie.delete(cookie);
    this.watches.remove(w);
    this.queue.delete(cookie);
  }

  pending(): boolean {
    return this.queue.size !== 0;
  }

  drain(): DrainedReports {
    const cookies = [...this.queue];
    this.queue.clear();
    // The queue is in-process memory: no kernel round trip to charge.
    return { cookies, overflowed: false, batches: 0 };
  }

  get queued(): number {
    return this.queue.size;
  }

  close(): void {
    this.unsubscribe();
    this.queue.clear();
  }
}

export function hooksSource(space: HookableSpace): InvalidationSource {
  return new HooksSource(space);
}
