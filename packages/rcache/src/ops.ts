import type { EventEmitter } from 'eventemitter3';
import type { RcacheEvents, LeaveReason } from './events.js';
import type { Region } from './region.js';
import type { RcacheStats } from './stats.js';

/** The device below the cache, as in UCX's ucs_rcache_ops_t: the cache never names an adapter. */
export interface RegistrationOps<H> {
  /** Registers the page-aligned range [start, end) with `access`; throws on failure (code 'ENOMEM' = no lockable memory). */
  register(start: number, end: number, access: number): H;
  deregister(handle: H): void;
}

/**
 * Modeled costs the cache itself charges (µs). Registration is normally charged by the device below; the
 * register/deregister terms are for devices that charge nothing themselves (defaults 0).
 */
export interface RcacheCost {
  /** A cache hit (UCX UCP_RCACHE_OVERHEAD_DEFAULT: 0.05 µs). */
  hitUs: number;
  /** One drain of the source's queue (a read syscall on a ummunotify fd: ~1 µs), per batch. */
  drainUs: number;
  registerBaseUs: number;
  registerPerPageUs: number;
  deregisterBaseUs: number;
  deregisterPerPageUs: number;
}

export const DEFAULT_COST: RcacheCost = Object.freeze({
  hitUs: 0.05,
  drainUs: 1,
  registerBaseUs: 0,
  registerPerPageUs: 0,
  deregisterBaseUs: 0,
  deregisterPerPageUs: 0,
});

/** Clock hooks: charge(us) advances a (virtual) clock; now() lets the cache measure what the device charged. */
export interface RcacheClock {
  charge: (us: number) => void;
  now: (() => number) | undefined;
}

/** Does this error from register() mean "no lockable memory" (RLIMIT_MEMLOCK, vm's MemlockLimitExceeded)? */
export function isOutOfLockableMemory(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ENOMEM';
}

/** Calls the ops and keeps the counters, the modeled time and the events that go with each call. */
export class Registrar<H> {
  constructor(
    private readonly ops: RegistrationOps<H>,
    private readonly stats: RcacheStats,
    private readonly events: EventEmitter<RcacheEvents>,
    private readonly clock: RcacheClock,
    private readonly cost: RcacheCost,
    private readonly pageSize: number,
  ) {}

  /** Registers region; on failure counts it and rethrows the device's error untouched. */
  register(region: Region<H>): void {
    const t0 = this.clock.now?.();
    let handle: H;
    try {
      handle = this.ops.register(region.start, region.end, region.access);
    } catch (err) {
      this.stats.registrationFailures++;
      throw err;
    }
    const pages = region.bytes / this.pageSize;
    const charged = this.cost.registerBaseUs + this.cost.registerPerPageUs * pages;
    if (charged > 0) this.clock.charge(charged);
    const measured = t0 === undefined ? 0 : (this.clock.now?.() ?? t0) - t0;
    this.stats.modeledUs.registering += charged + measured;
    region.handle = handle;
    region.registered = true;
    this.stats.registrations++;
    this.stats.bytesRegistered += region.bytes;
    this.events.emit('register', region);
  }

  deregister(region: Region<H>, reason: LeaveReason | 'release'): void {
    if (!region.registered) return;
    region.registered = false;
    const t0 = this.clock.now?.();
    this.ops.deregister(region.handle);
    const pages = region.bytes / this.pageSize;
    const charged = this.cost.deregisterBaseUs + this.cost.deregisterPerPageUs * pages;
    if (charged > 0) this.clock.charge(charged);
    const measured = t0 === undefined ? 0 : (this.clock.now?.() ?? t0) - t0;
    this.stats.modeledUs.deregistering += charged + measured;
    this.stats.deregistrations++;
    this.events.emit('deregister', region, reason);
  }
}
