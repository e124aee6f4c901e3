import type { Registration } from './region.js';
import type { SourceKind } from './sources/source.js';

/** Why a region left the cache. */
export type LeaveReason = 'evict' | 'invalidate' | 'merge' | 'displace' | 'flush' | 'close' | 'uncached';

/** Who invalidated a region: a listening source, the user (invalidate()), or a source's queue overflow. */
export type InvalidatedBy = Exclude<SourceKind, 'none'> | 'user' | 'overflow' | 'fork';

/** Events (eventemitter3). Listeners run synchronously inside the cache call; they must not call the cache. */
export interface RcacheEvents {
  hit: [reg: Registration<unknown>, path: 'fast' | 'slow'];
  miss: [start: number, end: number, access: number];
  register: [reg: Registration<unknown>];
  deregister: [reg: Registration<unknown>, reason: LeaveReason | 'release'];
  evict: [reg: Registration<unknown>, why: 'limit' | 'memory' | 'flush'];
  invalidate: [reg: Registration<unknown>, by: InvalidatedBy, deferred: boolean];
  merge: [into: { start: number; end: number }, merged: Registration<unknown>];
  refuse: [reason: string];
}
