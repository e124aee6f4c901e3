import { webcrypto } from 'node:crypto';
import { KEY_RAND_BITS } from '../shared/state.js';

/*
 * Keys: slot × 2^14 + 14 random bits (mlx5 does the same: the MKey index plus an 8-bit
 * variant). The slot makes lookup O(1); the random bits make a key unguessable from its
 * neighbours and make a stale key (slot reused by a new registration) fail instead of reaching
 * someone else's memory. lkey and rkey get separate bits.
 */
const RAND_MASK = (1 << KEY_RAND_BITS) - 1;
const pool = new Uint16Array(256);
let poolAt = pool.length;

function randomBits(): number {
  if (poolAt === pool.length) {
    webcrypto.getRandomValues(pool);
    poolAt = 0;
  }
  return pool[poolAt++]! & RAND_MASK;
}

/** A fresh (lkey, rkey) for `slot`, whose random bits differ from `previous` (the slot's last). */
export function makeKeys(slot: number, previous: number): { lkey: number; rkey: number; rand: number } {
  let a = randomBits();
  while (a === previous) a = randomBits();
  let b = randomBits();
  while (b === previous || b === a) b = randomBits();
  return { lkey: slot * (RAND_MASK + 1) + a, rkey: slot * (RAND_MASK + 1) + b, rand: a };
}

/** The table slot a key names (not yet checked against the table). */
export function keySlot(key: number): number {
  return Math.floor(key / (RAND_MASK + 1));
}
