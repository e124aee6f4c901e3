import { countAlgorithm } from './stats.js';
import { Tag, twinOf } from './transport.js';
import { exchangeStep, runBlocking, temporary, type Schedule } from './schedule.js';
import type { CollectiveComm } from './types.js';

/**
 * Dissemination barrier (Hensgen, Finkel & Manber; MPICH's default): in round k every rank
 * signals rank + 2^k and waits for rank - 2^k, so after ceil(log2 p) rounds each rank has
 * heard, transitively, from every other one. Works for any p with no extra round.
 */
export function barrier(comm: CollectiveComm): void {
  runBlocking(barrierSchedule(comm, Tag.barrier));
}

export function* barrierSchedule(comm: CollectiveComm, tag: number): Schedule {
  const p = comm.size;
  const r = comm.rank;
  if (p === 1) {
    countAlgorithm('barrier.trivial');
    return;
  }
  countAlgorithm('barrier.dissemination');
  const tw = twinOf(comm);
  // One-byte tokens: the content is irrelevant, the arrival is the signal.
  const tokens = temporary(comm, Uint8Array, 2);
  try {
    const out = tokens.subarray(0, 1);
    const inn = tokens.subarray(1, 2);
    for (let k = 1; k < p; k <<= 1) {
      yield* exchangeStep(tw, out, (r + k) % p, inn, (r - k + p) % p, tag);
    }
  } finally {
    tokens.free();
  }
}
