import { countAlgorithm } from './stats.js';
import { Tag, exchange, twinOf, withTemp } from './transport.js';
import type { CollectiveComm } from './types.js';

/**
 * Dissemination barrier (Hensgen, Finkel & Manber; MPICH's default): in round k every rank
 * signals rank + 2^k and waits for rank - 2^k, so after ceil(log2 p) rounds each rank has
 * heard, transitively, from every other one. Works for any p with no extra round.
 */
export function barrier(comm: CollectiveComm): void {
  const p = comm.size;
  const r = comm.rank;
  if (p === 1) {
    countAlgorithm('barrier.trivial');
    return;
  }
  countAlgorithm('barrier.dissemination');
  const tw = twinOf(comm);
  // One-byte tokens: the content is irrelevant, the arrival is the signal.
  withTemp(comm, Uint8Array, 2, (tokens) => {
    const out = tokens.subarray(0, 1);
    const inn = tokens.subarray(1, 2);
    for (let k = 1; k < p; k <<= 1) {
      exchange(tw, out, (r + k) % p, inn, (r - k + p) % p, Tag.barrier);
    }
  });
}
