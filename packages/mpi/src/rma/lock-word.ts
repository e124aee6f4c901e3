import { RmaSyncError } from './errors.js';
import type { TargetAccess } from './target-access.js';
import { idleUntil } from '../p2p/ports.js';

/** Offsets in a target's control block: the window's lock word, then the accumulate lock. */
export const LOCK_OFFSET = 0;
export const ACC_LOCK_OFFSET = 8;
/** Bytes of the control block: two lock words and the origin's 8-byte atomic result. */
export const CONTROL_BYTES = 64;
export const SCRATCH_OFFSET = 16;

export type LockType = 'shared' | 'exclusive';

/** Tries before a lock request gives up (a holder that never unlocks must not hang the job). */
const MAX_TRIES = 200_000;
const FIRST_BACKOFF_US = 0.5;
const MAX_BACKOFF_US = 50;

/**
 * A reader-writer lock on a target's 64-bit word, by remote atomics only (no target progress):
 * 0 free, n > 0 held shared by n origins, -1 held exclusive. Exclusive: compare-and-swap 0 → -1.
 * Shared: fetch-add 1, and if an exclusive holder was there, fetch-add -1 and try again. Retries
 * back off in virtual time (doubling, capped), as MVAPICH's and UCX's lock loops do.
 */
export function lockWord(access: TargetAccess, target: number, word: { addr: number; rkey: number }, type: LockType): void {
  const what = `lock (${type})`;
  let backoff = FIRST_BACKOFF_US;
  const clock = access.clock;
  for (let tries = 0; tries < MAX_TRIES; tries++) {
    if (type === 'exclusive') {
      if (access.atomic(target, 'compare-swap', word.addr, word.rkey, 0n, -1n, what) === 0n) return;
    } else {
      if (access.atomic(target, 'fetch-add', word.addr, word.rkey, 1n, 0n, what) >= 0n) return;
      access.atomic(target, 'fetch-add', word.addr, word.rkey, -1n, 0n, what);
    }
    idleUntil(clock, clock.now + backoff);
    backoff = Math.min(MAX_BACKOFF_US, backoff * 2);
  }
  throw new RmaSyncError(`${what} on rank ${target} not granted after ${MAX_TRIES} tries: does a holder never unlock?`);
}

export function unlockWord(access: TargetAccess, target: number, word: { addr: number; rkey: number }, type: LockType): void {
  access.atomic(target, 'fetch-add', word.addr, word.rkey, type === 'exclusive' ? 1n : -1n, 0n, `unlock (${type})`);
}
