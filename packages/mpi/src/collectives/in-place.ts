import { IN_PLACE, type InPlace } from '../constants.js';
import { InvalidBuffer } from '../errors.js';
import type { Buffer } from './types.js';

/**
 * MPI_IN_PLACE, collective by collective, as MPI allows it: the send buffer of allreduce,
 * allgather(v), alltoall(v), reduceScatter(Block), scan and exscan on every rank; the root's send
 * buffer of reduce and gather(v); the root's receive buffer of scatter(v). Anywhere else it is an
 * InvalidBuffer naming what to pass instead.
 */
export type MaybeInPlace = Buffer | InPlace;

export function isInPlace(b: unknown): b is InPlace {
  return b === IN_PLACE;
}

/** IN_PLACE where MPI forbids it: a typed error saying where it may go. */
export function forbidInPlace(name: string, what: string, b: unknown, where: string): void {
  if (b === IN_PLACE) throw new InvalidBuffer(`${name}: IN_PLACE cannot stand for the ${what}; ${where}`);
}

/** The `index`-th of `parts` equal blocks of `buf`, sized from the buffer alone (what IN_PLACE leaves to go by). */
export function ownBlock(name: string, buf: Buffer, parts: number, index: number): Buffer {
  if (buf.count % parts !== 0) {
    throw new InvalidBuffer(`${name}: with IN_PLACE the buffer's ${buf.count} elements must split into ${parts} equal blocks; size it as size × the block count`);
  }
  const n = buf.count / parts;
  return buf.subarray(index * n, (index + 1) * n);
}
