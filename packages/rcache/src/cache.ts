import { EventEmitter } from 'eventemitter3';
import { CacheClosed, InvalidArgument, RegistrationNotHeld } from './errors.js';
import type { RcacheEvents } from './events.js';
import { IntervalIndex } from './interval-index.js';
import { PageHints } from './fast-lookup.js';
import { DEFAULT_COST, Registrar, type RcacheCost, type RegistrationOps } from './ops.js';
import type { Region, Registration } from './region.js';
import { ReleaseLog } from './release-log.js';
import {
  noCharge,
  acquireSlow,
  drain,
  enforceLimits,
  flush,
  invalidateRange,
  leave,
  releaseHeld,
} from './slow.js';
import type { InvalidationSource } from './sources/source.js';
import type { CacheState, MergeMode } from './state.js';
import { emptyStats, snapshot, type Policy, type RcacheStats } from './stats.js';

export interface RegistrationCacheOptions<H> {
  ops: RegistrationOps<H>;
  /** Who tells the cache about stale ranges: noneSource(), hooksSource(as), notifierSource(as). */
  source: InvalidationSource;
  /** Page size of the address space (a power of two); regions are aligned to it. */
  pageSize: number;
  /** Limits on cached regions (count and bytes); only unused regions are evicted to meet them. */
  maxRegions?: number;
  maxBytes?: number;
  /** true (default): overlapping regions merge into their union; 'adjacent': touching ones too; false: a new
   *  region displaces the ones it overlaps. */
  merge?: MergeMode;
  /** Charged with the modeled cost of hits and drains (µs), e.g. a rank's virtual clock. */
  charge?: (us: number) => void;
  /** Current modeled time (µs), to measure what the device charges inside register/deregister. */
  now?: () => number;
  cost?: Partial<RcacheCost>;
  /** false: do not cache at all (policy 'off', pin-per-op): register per acquire, deregister per release. */
  cache?: boolean;
  /** UCX_RCACHE_PURGE_ON_FORK: an address space whose fork() first invalidates every cached region (atFork). */
  purgeOnFork?: ForkNotice;
}

/** What purgeOnFork listens to: an AddressSpace of @tsmpi/vm (pthread_atfork's prepare handler). */
export interface ForkNotice {
  atFork(prepare: () => void): () => void;
}

export interface CloseReport {
  /** Registrations deregistered by close(). */
  deregistered: number;
  /** Registrations still held when the cache closed (deregistered anyway; releasing them later throws). */
  inUse: Array<{ start: number; end: number; access: number; refCount: number; invalidated: boolean }>;
}

/**
 * A registration cache over any register/deregister pair (UCX's ucs_rcache shape). acquire() has a fast
 * path — nothing pending, a page hint (fast-lookup.ts) or one tree lookup, a containing region with enough
 * access — and falls back to acquireSlow() (slow.ts) for everything else.
 */
export class RegistrationCache<H> {
  private readonly st: CacheState<H>;
  private readonly hints: PageHints<H>;
  private readonly source: InvalidationSource;
  /** 1 / pageSize (exact for a power of two): the hit compares page numbers (region.ts says why). */
  private readonly perPage: number;
  /** Caching, not closed, not refusing: release() takes pending reports only then. */
  private fast: boolean;
  /** Someone listens to 'hit' (an emit per hit is measurable on the fast path). */
  private hitHeard = false;
  /** What the hit path touches, held here so that a hit follows no pointer it need not (a hit's cost is
   *  memory latency plus its instruction count: the fewer instructions, the more of the next hit's loads
   *  overlap with this one's). */
  private readonly counters: RcacheStats;
  private readonly modeled: RcacheStats['modeledUs'];
  private readonly log: ReleaseLog<H>;
  private readonly hitUs: number;
  /** Hits are charged to a clock (hitUs > 0 and a charge() given). */
  private readonly hitCharged: boolean;
  private readonly charge: (us: number) => void;
  private readonly maxRegions: number;
  private readonly maxBytes: number;
  /** maxRegions or maxBytes is finite: a release to zero may have to evict. */
  private readonly limited: boolean;
  /** Not closed (st.closed, negated and kept here for release()). */
  private open = true;
  /** Removes the purge-on-fork handler (close). */
  private readonly stopPurgeOnFork: () => void = () => {};

  constructor(opts: RegistrationCacheOptions<H>) {
    const { ops, source, pageSize } = opts;
    if (ops === null || typeof ops !== 'object' || typeof ops.register !== 'function' || typeof ops.deregister !== 'function') {
      throw new InvalidArgument('RegistrationCache: ops must be an object with register(start, end, access) and deregister(handle)');
    }
    if (source === null || typeof source !== 'object' || typeof source.pending !== 'function') {
      throw new InvalidArgument('RegistrationCache: source must be an InvalidationSource (noneSource(), hooksSource(as) or notifierSource(as))');
    }
    if (!Number.isSafeInteger(pageSize) || pageSize <= 0 || (pageSize & (pageSize - 1)) !== 0) {
      throw new InvalidArgument(`RegistrationCache: pageSize must be a power of two, got ${pageSize}`);
    }
    const maxRegions = opts.maxRegions ?? Infinity;
    const maxBytes = opts.maxBytes ?? Infinity;
    if (!(maxRegions >= 0)) throw new InvalidArgument(`RegistrationCache: maxRegions must be >= 0, got ${maxRegions}`);
    if (!(maxBytes >= 0)) throw new InvalidArgument(`RegistrationCache: maxBytes must be >= 0, got ${maxBytes}`);
    const merge = opts.merge ?? true;
    if (merge !== true && merge !== false && merge !== 'adjacent') {
      throw new InvalidArgument(`RegistrationCache: merge must be true, false or 'adjacent', got ${String(merge)}`);
    }
    const cost: RcacheCost = { ...DEFAULT_COST, ...opts.cost };
    for (const [k, v] of Object.entries(cost)) {
      if (!(typeof v === 'number' && v >= 0)) throw new InvalidArgument(`RegistrationCache: cost.${k} must be a number >= 0, got ${v}`);
    }
    const caching = opts.cache ?? true;
    const stats = emptyStats(caching ? source.kind : 'off');
    const events = new EventEmitter<RcacheEvents>();
    const clock = { charge: opts.charge ?? noCharge, now: opts.now };
    const index = new IntervalIndex<Region<H>>();
    this.hints = new PageHints<H>(index, pageSize);
    this.source = source;
    this.perPage = 1 / pageSize;
    this.st = {
      owner: this,
      registrar: new Registrar(ops, stats, events, clock, cost, pageSize),
      source,
      index,
      hints: this.hints,
      released: new ReleaseLog<H>(),
      byCookie: new Map(),
      held: new Set(),
      stats,
      events,
      clock,
      cost,
      pageSize,
      maxRegions,
      maxBytes,
      merge,
      caching,
      closed: false,
    };
    if (caching) {
      const refusal = selfTest(source);
      if (refusal !== undefined) {
        this.st.caching = false;
        stats.refusing = true;
        stats.refusal = refusal;
        // Reported after construction so a listener attached right away still hears it.
        queueMicrotask(() => events.emit('refuse', refusal));
      }
    }
    this.fast = this.st.caching;
    this.counters = stats;
    this.modeled = stats.modeledUs;
    this.log = this.st.released;
    this.hitUs = cost.hitUs;
    this.charge = clock.charge;
    this.hitCharged = cost.hitUs > 0 && clock.charge !== noCharge;
    this.maxRegions = maxRegions;
    this.maxBytes = maxBytes;
    this.limited = maxRegions !== Infinity || maxBytes !== Infinity;
    const forks = opts.purgeOnFork;
    if (forks !== undefined) {
      if (forks === null || typeof forks.atFork !== 'function') {
        throw new InvalidArgument('RegistrationCache: purgeOnFork must be an address space (something with atFork(prepare))');
      }
      // before the fork shares a page: in-use regions are deregistered at their last release, as on any invalidation
      this.stopPurgeOnFork = forks.atFork(() => {
        if (this.st.closed || !this.st.caching) return;
        this.st.stats.forkPurges++;
        invalidateRange(this.st, 0, Number.MAX_SAFE_INTEGER, 'fork');
      });
    }
  }

  /**
   * A registration covering [addr, addr + length) with at least `access`. Release it exactly once per acquire.
   * Fast path: no pending invalidation (one flag test or atomic load) and a cached region that contains the
   * range with enough access. Everything else — pending reports, a miss, too little access, policy 'off', a
   * refusing or closed cache — goes to acquireSlow(), which also validates the arguments (a request the fast
   * path can answer is necessarily a positive length inside a cached region).
   */
  acquire(addr: number, length: number, access: number): Registration<H> {
    // No test of `fast` here: a closed, refusing or uncached cache has an empty index, so no hint is trusted
    // (fast-lookup.ts checks `cached`) and the request goes to acquireSlow, which sorts those cases out.
    // `gets` is counted there too, and the snapshot adds the fast hits (stats getter).
    if (!this.source.pending()) {
      const r = this.hints.find(addr);
      // ceil((addr + length) / pageSize) <= endPage is exactly addr + length <= end (end is page-aligned)
      if (r !== undefined && Math.ceil((addr + length) * this.perPage) <= r.endPage && length > 0 && (r.access & access) === access) {
        const stats = this.counters;
        if (r.refCount++ === 0) stats.regionsInUse++;
        stats.hitsFast++;
        this.modeled.hits += this.hitUs;
        if (this.hitCharged) this.charge(this.hitUs);
        if (this.hitHeard) this.heardHit(r);
        return r;
      }
    }
    return this.acquireSlow(addr, length, access);
  }

  private heardHit(r: Region<H>): void {
    this.st.events.emit('hit', r, 'fast');
  }

  /** Out of line, like every rare case here: V8 inlines acquire() and release() into the caller only while
   *  their bytecode stays small, and a call the hit makes costs it more than the call's own instructions. */
  private acquireSlow(addr: number, length: number, access: number): Registration<H> {
    this.counters.gets++;
    if (this.st.closed) throw new CacheClosed('acquire()');
    return acquireSlow(this.st, addr, length, access);
  }

  /** Drops one hold. At zero an unused cached region joins the LRU (it stays registered: lazy deregistration);
   *  a region that left the cache meanwhile (invalidated, merged away) is deregistered now. */
  release(reg: Registration<H>): void {
    const r = reg as Region<H>;
    // one test for the common case; misuse (foreign, closed, not held) is sorted out of line
    if (r?.owner !== this || !this.open || r.refCount <= 0) return this.releaseMisuse(r);
    const stats = this.counters;
    stats.puts++;
    if (this.fast && this.source.pending()) drain(this.st);
    if (r.refCount > 1) {
      r.refCount--;
      return;
    }
    if (!r.cached) return releaseHeld(this.st, r);
    r.refCount = 0;
    stats.regionsInUse--;
    this.log.append(r, stats.regions);
    if (this.limited) this.enforceLimits();
  }

  private enforceLimits(): void {
    const stats = this.counters;
    if (stats.regions > this.maxRegions || stats.bytes > this.maxBytes) enforceLimits(this.st);
  }

  private releaseMisuse(r: Region<H>): never {
    if (r?.owner !== this) {
      throw new RegistrationNotHeld('release(): this registration was not handed out by this cache; release it to the cache that acquired it');
    }
    if (!this.open) throw new CacheClosed('release()');
    throw new RegistrationNotHeld(
      `release(): [0x${r.start.toString(16)}, 0x${r.end.toString(16)}) is not held (released more times than acquired)`,
    );
  }

  /** Invalidates every cached region that intersects [start, end) (in-use ones die at their last release). */
  invalidate(start: number, end: number): void {
    if (this.st.closed) throw new CacheClosed('invalidate()');
    if (!this.st.caching) return;
    invalidateRange(this.st, start, end);
  }

  /** Takes pending invalidations, then deregisters every unused region. In-use regions stay cached. */
  flush(): void {
    if (this.st.closed) throw new CacheClosed('flush()');
    if (!this.st.caching) return;
    flush(this.st);
  }

  /** Deregisters everything, stops the source, and reports the registrations that were still held. */
  close(): CloseReport {
    const st = this.st;
    if (st.closed) return { deregistered: 0, inUse: [] };
    const before = st.stats.deregistrations;
    if (st.caching) flush(st);
    const inUse: CloseReport['inUse'] = [];
    const stillHeld = [...st.index.values(), ...st.held];
    for (const r of stillHeld) {
      inUse.push({ start: r.start, end: r.end, access: r.access, refCount: r.refCount, invalidated: r.invalidated });
      leave(st, r, 'close');
    }
    for (const r of st.held) {
      r.refCount = 0;
      st.registrar.deregister(r, 'close');
    }
    st.held.clear();
    st.stats.regionsDetached = 0;
    st.closed = true;
    this.open = false;
    this.fast = false;
    st.source.close();
    this.stopPurgeOnFork();
    return { deregistered: st.stats.deregistrations - before, inUse };
  }

  /** 'off' (pin-per-op) or the source's kind. A refusing cache keeps its source's name; stats.refusing says it refuses. */
  get policy(): Policy {
    return this.st.stats.policy;
  }

  /** A copy of the counters. */
  get stats(): RcacheStats {
    const s = snapshot(this.st.stats);
    s.gets += s.hitsFast; // the fast path counts its hits only (acquire)
    return s;
  }

  /** The cached regions in address order (introspection, like UCX's dump). */
  dump(): Array<{ start: number; end: number; access: number; refCount: number }> {
    return this.st.index.values().map((r) => ({ start: r.start, end: r.end, access: r.access, refCount: r.refCount }));
  }

  on<E extends keyof RcacheEvents>(event: E, fn: (...args: RcacheEvents[E]) => void): this {
    this.st.events.on(event, fn as never);
    this.hitHeard = this.st.events.listenerCount('hit') > 0;
    return this;
  }

  off<E extends keyof RcacheEvents>(event: E, fn: (...args: RcacheEvents[E]) => void): this {
    this.st.events.off(event, fn as never);
    this.hitHeard = this.st.events.listenerCount('hit') > 0;
    return this;
  }
}

/**
 * The open-time self-test: map a page, watch it, unmap it, and check that the source reported it. Returns
 * why the cache must refuse to cache, or undefined when the source heard (or is deaf on purpose: 'none').
 */
function selfTest(source: InvalidationSource): string | undefined {
  let probe;
  try {
    probe = source.probe();
  } catch (err) {
    return `the ${source.kind} source could not set up its self-test (${err instanceof Error ? err.message : String(err)}); caching without invalidations could hand out stale registrations, so every acquire registers afresh`;
  }
  if (probe === undefined) return undefined;
  const cookie = source.watch(probe.start, probe.end);
  let heard = false;
  try {
    probe.fire();
    if (source.pending()) {
      const batch = source.drain();
      heard = batch.overflowed || batch.cookies.includes(cookie);
    }
  } finally {
    source.unwatch(cookie);
  }
  if (heard) return undefined;
  return (
    `the ${source.kind} source did not report the munmap of a watched page at 0x${probe.start.toString(16)}; ` +
    `caching without invalidations could hand out stale registrations, so every acquire registers afresh`
  );
}
