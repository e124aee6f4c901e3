/**
 * The slow path: everything acquire() does when the fast path (nothing pending, one lookup, a containing
 * region with enough access) does not apply — draining the source, creating, merging, evicting,
 * invalidating, and the pin-per-op path used by policy 'off' and by a refusing cache.
 */
import { InvalidArgument, OutOfLockableMemory, RcacheError, RegistrationFailed } from './errors.js';
import type { InvalidatedBy, LeaveReason } from './events.js';
import { isOutOfLockableMemory } from './ops.js';
import { Region } from './region.js';
import type { CacheState } from './state.js';

/** How many times acquire retries when the region it just registered was invalidated before it returned. */
const MAX_CREATE_ATTEMPTS = 4;

export function checkRange(addr: number, length: number, access: number): void {
  if (!Number.isSafeInteger(addr) || addr < 0) {
    throw new InvalidArgument(`acquire: addr must be a non-negative integer address, got ${addr}`);
  }
  if (!Number.isSafeInteger(length) || length <= 0) {
    throw new InvalidArgument(
      `acquire: length must be a positive integer, got ${length} (zero-length buffers need no registration)`,
    );
  }
  if (!Number.isSafeInteger(access) || access < 0) {
    throw new InvalidArgument(`acquire: access must be a non-negative integer bit mask, got ${access}`);
  }
}

/** The acquire path after the fast path declined. Cases, in order: refusing/off → register per acquire;
 *  pending reports → drain; a containing region with enough access → slow hit; otherwise create (merge). */
export function acquireSlow<H>(st: CacheState<H>, addr: number, length: number, access: number): Region<H> {
  checkRange(addr, length, access);
  const start = Math.floor(addr / st.pageSize) * st.pageSize;
  const end = Math.ceil((addr + length) / st.pageSize) * st.pageSize;
  if (!st.caching) return acquireUncached(st, start, end, access);
  if (st.source.pending()) drain(st);
  for (let attempt = 1; ; attempt++) {
    const found = st.hints.find(start);
    if (found !== undefined && end <= found.end && (found.access & access) === access) {
      hold(st, found);
      st.stats.hitsSlow++;
      chargeHit(st);
      st.events.emit('hit', found, 'slow');
      return found;
    }
    const region = createRegion(st, start, end, access);
    // register() ran the device's code; if that changed the mapping under the new region, the source has
    // queued it, and handing it out would be handing out a stale registration.
    if (!st.source.pending()) return region;
    drain(st);
    if (!region.invalidated) return region;
    releaseHeld(st, region);
    if (attempt >= MAX_CREATE_ATTEMPTS) {
      throw new RcacheError(
        'EREG',
        `registering [0x${start.toString(16)}, 0x${end.toString(16)}) was invalidated ${attempt} times in a row ` +
          `while registering; the mapping keeps changing under the buffer — stop changing it during the call`,
      );
    }
  }
}

/** A cache miss: fold every overlapping region into one (merge) or drop them (no merge), register, index. */
function createRegion<H>(st: CacheState<H>, start: number, end: number, access: number): Region<H> {
  st.stats.misses++;
  st.events.emit('miss', start, end, access);
  let s = start;
  let e = end;
  let acc = access;
  const overlapping = st.index.overlapping(start, end, st.merge === 'adjacent');
  for (const r of overlapping) {
    const covers = r.start <= start && end <= r.end;
    if (covers) st.stats.upgrades++; // it contains the range, so only its access fell short
    if (st.merge !== false) {
      // UCX semantics: the union of the ranges and of the access bits.
      if (r.start < s) s = r.start;
      if (r.end > e) e = r.end;
      acc |= r.access;
      st.stats.merges++;
      st.events.emit('merge', { start: s, end: e }, r);
      leave(st, r, 'merge');
    } else {
      if (covers) acc |= r.access;
      st.stats.displaced++;
      leave(st, r, 'displace');
    }
  }
  let region = new Region<H>(st.owner, s, e, acc, st.pageSize);
  // Watch before registering, as with ummunotify: a change during registration must not go unheard.
  let cookie = st.source.watch(s, e);
  try {
    registerWithRetry(st, region);
  } catch (err) {
    st.source.unwatch(cookie);
    const merged = s !== start || e !== end || acc !== access;
    if (!merged) throw err;
    // As UCX does after any failure of a merged registration: the merge may be what failed (part of
    // a merged-away region is no longer mapped or allows less, or the union does not fit the
    // locked-memory limit while an absorbed region is still held). The regions it absorbed have left
    // the index, so the requested range alone registers without merging again.
    st.stats.mergeFallbacks++;
    region = new Region<H>(st.owner, start, end, access, st.pageSize);
    cookie = st.source.watch(start, end);
    try {
      registerWithRetry(st, region);
    } catch (err2) {
      st.source.unwatch(cookie);
      throw err2;
    }
  }
  region.cookie = cookie;
  st.byCookie.set(cookie, region);
  st.index.insert(region);
  region.cached = true;
  region.refCount = 1;
  st.stats.regions++;
  st.stats.bytes += region.bytes;
  st.stats.regionsInUse++;
  st.hints.fit(st.stats.regions);
  if (st.stats.regions > st.maxRegions || st.stats.bytes > st.maxBytes) enforceLimits(st);
  return region;
}

/** register(); when it fails for lack of lockable memory, evict unused regions (oldest first) and retry. */
function registerWithRetry<H>(st: CacheState<H>, region: Region<H>): void {
  for (;;) {
    try {
      st.registrar.register(region);
      return;
    } catch (err) {
      if (!isOutOfLockableMemory(err)) throw new RegistrationFailed(region.start, region.end, err);
      const freed = evictForMemory(st, region.bytes);
      if (freed === 0) {
        const heldBytes = st.stats.bytes;
        throw new OutOfLockableMemory(
          region.start,
          region.end,
          `nothing unused left to evict: ${st.stats.regionsInUse} cached regions in use, ` +
            `${heldBytes} bytes cached, ${st.held.size} more registrations held outside the cache`,
          err,
        );
      }
      st.stats.memoryRetries++;
    }
  }
}

/** Evicts unused regions, least recently released first, until `need` bytes were freed; returns bytes freed. */
function evictForMemory<H>(st: CacheState<H>, need: number): number {
  let freed = 0;
  while (freed < need) {
    const victim = st.released.takeOldest();
    if (victim === undefined) break;
    freed += victim.bytes;
    st.stats.evictions++;
    st.stats.evictionsForMemory++;
    st.events.emit('evict', victim, 'memory');
    leave(st, victim, 'evict');
  }
  return freed;
}

/** Brings the cache under maxRegions/maxBytes by evicting unused regions; in-use regions are never evicted. */
export function enforceLimits<H>(st: CacheState<H>): void {
  while (st.stats.regions > st.maxRegions || st.stats.bytes > st.maxBytes) {
    const victim = st.released.takeOldest(); // skips regions acquired again since; release() lists them again
    if (victim === undefined) break;
    st.stats.evictions++;
    st.events.emit('evict', victim, 'limit');
    leave(st, victim, 'evict');
  }
  const over = st.stats.regions > st.maxRegions || st.stats.bytes > st.maxBytes;
  if (over) st.stats.limitExceeded++;
  st.stats.overLimit = over;
}

/**
 * Takes the source's queued reports and invalidates their regions. Runs inside a cache call, never inside
 * the source's callback. An overflowed queue lost reports, so every cached region is invalidated.
 */
export function drain<H>(st: CacheState<H>): void {
  const batch = st.source.drain();
  st.stats.drains++;
  st.stats.drainBatches += batch.batches;
  const us = st.cost.drainUs * batch.batches;
  st.stats.modeledUs.drains += us;
  if (us > 0) st.clock.charge(us);
  if (batch.overflowed) {
    st.stats.overflows++;
    for (const r of st.index.values()) invalidateRegion(st, r, 'overflow');
  }
  const by = st.source.kind === 'notifier' ? 'notifier' : 'hooks';
  for (const cookie of batch.cookies) {
    st.stats.reports++;
    const r = st.byCookie.get(cookie);
    if (r === undefined) st.stats.reportsUnmatched++;
    else invalidateRegion(st, r, by);
  }
}

/** invalidate(start, end) from the user: every cached region that intersects the range. */
export function invalidateRange<H>(st: CacheState<H>, start: number, end: number, by: InvalidatedBy = 'user'): void {
  if (st.source.pending()) drain(st);
  for (const r of st.index.overlapping(start, end)) invalidateRegion(st, r, by);
}

function invalidateRegion<H>(st: CacheState<H>, r: Region<H>, by: InvalidatedBy): void {
  r.invalidated = true;
  st.stats.invalidations++;
  st.stats.invalidationsBy[by]++;
  const deferred = r.refCount > 0;
  if (deferred) st.stats.deferredDeregistrations++;
  st.events.emit('invalidate', r, by, deferred);
  leave(st, r, 'invalidate');
}

/**
 * Takes a region out of the index (and its watch and LRU entry). Unused: deregistered now. In use: kept
 * registered for its holders, never found again, deregistered at its last release.
 */
export function leave<H>(st: CacheState<H>, r: Region<H>, reason: LeaveReason): void {
  if (r.cached) {
    st.index.remove(r);
    r.cached = false;
    st.stats.regions--;
    st.stats.bytes -= r.bytes;
    if (r.cookie !== 0) {
      st.source.unwatch(r.cookie);
      st.byCookie.delete(r.cookie);
      r.cookie = 0;
    }
    st.released.unlist(r);
    if (r.refCount > 0) {
      st.stats.regionsInUse--;
      st.stats.regionsDetached++;
      st.held.add(r);
      return;
    }
  }
  if (r.refCount === 0) st.registrar.deregister(r, reason);
}

/** The last release of a registration that is no longer cached (detached or pin-per-op): deregister it. */
export function releaseHeld<H>(st: CacheState<H>, r: Region<H>): void {
  r.refCount = 0;
  if (st.held.delete(r) && st.caching) st.stats.regionsDetached--;
  st.registrar.deregister(r, r.invalidated ? 'invalidate' : st.caching ? 'release' : 'uncached');
}

export function hold<H>(st: CacheState<H>, r: Region<H>): void {
  if (r.refCount++ === 0) st.stats.regionsInUse++;
}

export function chargeHit<H>(st: CacheState<H>): void {
  const us = st.cost.hitUs;
  st.stats.modeledUs.hits += us;
  if (us > 0 && st.clock.charge !== noCharge) st.clock.charge(us);
}

/** The charge() of a cache that was given none. */
export const noCharge = (_us: number): void => {};

/** Pin-per-op: policy 'off', or a cache that refuses to cache. One register per acquire, one deregister per release. */
function acquireUncached<H>(st: CacheState<H>, start: number, end: number, access: number): Region<H> {
  st.stats.uncached++;
  const region = new Region<H>(st.owner, start, end, access, st.pageSize);
  registerWithRetry(st, region);
  region.refCount = 1;
  st.held.add(region);
  return region;
}

/** flush(): drain, then deregister every unused region. In-use regions stay cached. */
export function flush<H>(st: CacheState<H>): void {
  if (st.source.pending()) drain(st);
  for (;;) {
    const victim = st.released.takeOldest();
    if (victim === undefined) break;
    st.stats.evictions++;
    st.events.emit('evict', victim, 'flush');
    leave(st, victim, 'flush');
  }
}
