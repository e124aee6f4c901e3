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
 * Atomics.load of the channel's generation compared with the value seen at the last drain; drain() reads
 * the queued cookies in batches. Repeated invalidations of one cookie collapse in the channel; a full
 * channel sets `overflowed`, which the cache answers by dropping everything, after which the channel is
 * cleared.
 */
class NotifierSource implements InvalidationSource {
  readonly kind = 'notifier' as const;
  private readonly channel: Ummunotify;
  private readonly batch: number;
  /** Generation at the last drain. Owner thread only. */
  private seen: number;
  private nextCookie = 1;

  constructor(
    private readonly space: AddressSpace,
    opts: NotifierSourceOptions,
  ) {
    this.channel = new Ummunotify(space, opts.capacity === undefined ? {} : { capacity: opts.capacity });
    this.batch = opts.batch ?? 256;
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
    return this.channel.generation !== this.seen;
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
