import { Ummunotify, type AddressSpace } from '@tsmpi/vm';
import type { DrainedReports, InvalidationSource, SelfTestProbe } from './source.js';

export interface NotifierSourceOptions {
  /** Queue capacity of the channel (cookies); a full queue overflows and the cache drops everything. */
  capacity?: number;
  /** Cookies read per drain call — one read(2) on the ummunotify fd, charged cost.drainUs each. */
  batch?: number;
}

/**
 * Invalidations from a ummunotify-style channel (Roland Dreier, OpenFabrics 2009) fed by the address space's mmu notifier, so it
 * hears kernel-initiated changes (migration, reclaim) as well as munmap and friends. pending() is one
 * plain load of the channel's generation compared with the value seen at the last drain; drain() reads
 * the queued cookies in batches. Repeated invalidations of one cookie collapse in the channel; a full
 * channel sets `overflowed`, which the cache answers by dropping everything, after which the channel is
 * cleared.
 */
class NotifierSource implements InvalidationSource {
  readonly kind = 'notifier' as const;
  private readonly channel: Ummunotify;
  private readonly batch: number;
  /**
   * The channel's generation cell (offset 0 of its shared buffer, vm's ummunotify.ts layout), read plainly:
   * an Atomics.load is not inlined as a plain load is, and costs a hit ~8 ns of its ~50 at 10^4 regions
   * (one loop, same run, loaded host). The generation is bumped by the mmu notifier callback on this same
   * thread (ummunotify.ts: producer and consumer both run on the owner thread), so program order is all a
   * plain read needs to see every bump.
   */
  private readonly generationCell: Int32Array;
  /** Generation at the last drain. Owner thread only. */
  private seen: number;
  private nextCookie = 1;

  constructor(
    private readonly space: AddressSpace,
    opts: NotifierSourceOptions,
  ) {
    this.channel = new Ummunotify(space, opts.capacity === undefined ? {} : { capacity: opts.capacity });
    this.batch = opts.batch ?? 256;
    this.generationCell = new Int32Array(this.channel.buffer, 0, 1);
    this.seen = this.channel.generation;
  }

  probe(): SelfTestProbe {
    const size = this.space.pageSize;
    // Populated, because an unmap of never-touched pages invalidates nothing (Jason Gunthorpe, in the 2009 OpenFabrics thread "Memory registration redux").
    const start = this.space.mmap(size, { populate: true });
    return { start, end: start + size, fire: () => this.space.munmap(start, size) };
  }

  watch(start: number, end: number): number {
    const cookie = this.nextCookie++;
    this.channel.register(start, end, cookie);
    return cookie;
  }

  unwatch(cookie: number): void {
    this.channel.unregister(cookie);
  }

  pending(): boolean {
    return this.generationCell[0] !== this.seen;
  }

  drain(): DrainedReports {
    // Read the generation first: an invalidation that lands after this point moves it again.
    this.seen = this.channel.generation;
    const overflowed = this.channel.overflowed;
    const cookies: number[] = [];
    let batches = 0;
    for (;;) {
      const got = this.channel.drain(this.batch);
      batches++;
      for (const c of got) cookies.push(c);
      if (got.length < this.batch) break;
    }
    if (overflowed) this.channel.clearOverflow();
    return { cookies, overflowed, batches };
  }

  get queued(): number {
    return this.channel.pending;
  }

  close(): void {
    this.channel.close();
  }
}

export function notifierSource(space: AddressSpace, opts: NotifierSourceOptions = {}): InvalidationSource {
  return new NotifierSource(space, opts);
}
