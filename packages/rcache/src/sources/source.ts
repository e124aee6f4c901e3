/**
 * The invalidation-source contract (README "Invalidation sources").
 *
 * A source tells the cache which watched ranges went stale. It never deregisters anything and never calls
 * the cache: its callbacks (the allocator/syscall hooks, the mmu notifier) only queue a cookie. The cache
 * asks `pending()` on every acquire (it must be cheap: a flag or one plain load) and calls `drain()` only
 * when it says yes. Each cookie is reported at most once per drain however many times its range was hit,
 * so the queue is bounded by the number of watched ranges (or by the channel's capacity, after which the
 * source reports `overflowed` and the cache drops everything).
 */
export type SourceKind = 'none' | 'hooks' | 'notifier';

export interface DrainedReports {
  /** Cookies whose watched range was invalidated since the last drain, each once. */
  readonly cookies: readonly number[];
  /** Reports were lost (queue full): every watched range must be treated as invalidated. */
  readonly overflowed: boolean;
  /** Kernel round trips the drain took (read(2) calls on a notifier fd; 0 for in-process hooks). The cache
   *  charges cost.drainUs per batch. */
  readonly batches: number;
}

/** One real change the cache can watch for at open: a page mapped, watched, then unmapped by fire(). */
export interface SelfTestProbe {
  readonly start: number;
  readonly end: number;
  fire(): void;
}

export interface InvalidationSource {
  readonly kind: SourceKind;
  /** Sets up the open-time self-test; undefined means deaf on purpose (the 'none' source). */
  probe(): SelfTestProbe | undefined;
  /** Starts watching [start, end); returns a cookie (never 0) that drain() will report. */
  watch(start: number, end: number): number;
  unwatch(cookie: number): void;
  /** Anything queued since the last drain? Called on every acquire: a flag test or one plain load. */
  pending(): boolean;
  drain(): DrainedReports;
  /** Reports queued now (for tests and stats: it must stay bounded). */
  readonly queued: number;
  close(): void;
}
