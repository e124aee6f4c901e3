import { countAlgorithm } from './stats.js';
import { forbidInPlace, isInPlace, ownBlock, type MaybeInPlace } from './in-place.js';

import { DEFAULT_TUNING, tuning } from './tuning.js';
import { Tag, checkCount, checkSameType, copy, twinOf } from './transport.js';
import { exchangeStep, runBlocking, type Schedule } from './schedule.js';
import type { Buffer, CollectiveComm } from './types.js';

/**
 * Recursive doubling when p is a power of two and the result is under this many bytes
 * (log2 p steps, windows doubling in place); ring otherwise (p - 1 steps of one block,
 * every link busy: the bandwidth-optimal choice, and correct for any p). 512 KiB is
 * MPICH's MPIR_CVAR_ALLGATHER_LONG_MSG_SIZE. MPICH's Bruck algorithm for small
 * non-power-of-two groups is not implemented; those take the ring.
 */
export const ALLGATHER_LONG_BYTES = DEFAULT_TUNING.allgatherLongBytes;

/** Every rank contributes sbuf (n elements) and receives all p blocks in rank order into rbuf (p × n). */
export function allgather(comm: CollectiveComm, sbuf: MaybeInPlace, rbuf: Buffer): void {
  runBlocking(allgatherSchedule(comm, sbuf, rbuf, Tag.allgather));
}

export function* allgatherSchedule(comm: CollectiveComm, send: MaybeInPlace, rbuf: Buffer, tag: number): Schedule {
  const p = comm.size;
  const r = comm.rank;
  forbidInPlace('allgather', 'receive buffer', rbuf, 'pass it as the send buffer on every rank');
  const sbuf = isInPlace(send) ? ownBlock('allgather', rbuf, p, r) : send;
  const n = sbuf.count;
  checkCount('allgather', 'the receive buffer', rbuf, n * p);
  checkSameType('allgather', sbuf, rbuf);
  const block = (b: number, count = 1) => rbuf.subarray(b * n, (b + count) * n);
  if (rbuf !== sbuf) copy(comm, block(r), sbuf);
  if (p === 1 || n === 0) {
    countAlgorithm('allgather.trivial');
    return;
  }
  const tw = twinOf(comm);
  if ((p & (p - 1)) === 0 && rbuf.byteLength < tuning.allgatherLongBytes) {
    countAlgorithm('allgather.recursiveDoubling');
    // At distance `mask` a rank holds the aligned window of `mask` blocks containing its own.
    for (let mask = 1; mask < p; mask <<= 1) {
      const partner = r ^ mask;
      yield* exchangeStep(tw, block(r & ~(mask - 1), mask), partner, block(partner & ~(mask - 1), mask), partner, tag);
    }
    return;
  }
  countAlgorithm('allgather.ring');
  const right = (r + 1) % p;
  const left = (r - 1 + p) % p;
  for (let i = 0; i < p - 1; i++) {
    yield* exchangeStep(tw, block((r - i + p) % p), right, block((r - i - 1 + p) % p), left, tag);
  }
}
