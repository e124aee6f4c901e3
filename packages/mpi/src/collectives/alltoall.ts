import { InvalidBuffer } from '../errors.js';
import { countAlgorithm } from './stats.js';
import { forbidInPlace, isInPlace, ownBlock, type MaybeInPlace } from './in-place.js';

import { Tag, checkCount, checkSameType, copy, twinOf } from './transport.js';
import { exchangeStep, runBlocking, temporary, type Schedule } from './schedule.js';
import type { Buffer, CollectiveComm } from './types.js';

/**
 * Pairwise exchange (MPICH's long-message alltoall, Open MPI tuned's "pairwise"): p - 1
 * steps, one partner per step, so no rank ever has more than one message in each direction
 * and nothing piles up in the unexpected queue. Partners are rank XOR step when p is a
 * power of two (each step a perfect matching), else send to rank + step and receive from
 * rank - step.
 *
 * sbuf holds p blocks of n elements (block j goes to rank j); rbuf receives block i from rank i.
 */
export function alltoall(comm: CollectiveComm, sbuf: MaybeInPlace, rbuf: Buffer): void {
  runBlocking(alltoallSchedule(comm, sbuf, rbuf, Tag.alltoall));
}

export function* alltoallSchedule(comm: CollectiveComm, send: MaybeInPlace, rbuf: Buffer, tag: number): Schedule {
  forbidInPlace('alltoall', 'receive buffer', rbuf, 'pass it as the send buffer on every rank');
  if (!isInPlace(send)) return yield* pairwise(comm, send, rbuf, tag);
  // IN_PLACE: the outgoing blocks are copied aside first, as MPICH's in-place alltoall does block by block
  const sbuf = temporary(comm, rbuf.type, rbuf.count);
  try {
    copy(comm, sbuf, rbuf);
    yield* pairwise(comm, sbuf, rbuf, tag);
  } finally {
    sbuf.free();
  }
}

function* pairwise(comm: CollectiveComm, sbuf: Buffer, rbuf: Buffer, tag: number): Schedule {
  const p = comm.size;
  const r = comm.rank;
  checkCount('alltoall', 'the receive buffer', rbuf, sbuf.count);
  checkSameType('alltoall', sbuf, rbuf);
  if (sbuf.count % p !== 0) {
    throw new InvalidBuffer(`alltoall: the send buffer holds ${sbuf.count} elements, not a multiple of the ${p} ranks; pass p blocks of equal size`);
  }
  if (sbuf.addr === rbuf.addr && sbuf.count > 0) {
    throw new InvalidBuffer('alltoall: send and receive buffers are the same memory; pass separate buffers, or IN_PLACE as the send buffer');
  }
  const n = sbuf.count / p;
  copy(comm, rbuf.subarray(r * n, (r + 1) * n), sbuf.subarray(r * n, (r + 1) * n));
  if (p === 1 || n === 0) {
    countAlgorithm('alltoall.trivial');
    return;
  }
  countAlgorithm('alltoall.pairwise');
  const tw = twinOf(comm);
  const xor = (p & (p - 1)) === 0;
  for (let step = 1; step < p; step++) {
    const dest = xor ? r ^ step : (r + step) % p;
    const source = xor ? r ^ step : (r - step + p) % p;
    yield* exchangeStep(tw, sbuf.subarray(dest * n, (dest + 1) * n), dest, rbuf.subarray(source * n, (source + 1) * n), source, tag);
  }
}
