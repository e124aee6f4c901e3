import { checkOp, combineInto } from './combine.js';
import { forbidInPlace, isInPlace, ownBlock, type MaybeInPlace } from './in-place.js';

import type { ReduceOp } from './ops.js';
import { countAlgorithm } from './stats.js';
import { DEFAULT_TUNING, tuning } from './tuning.js';
import { Tag, blockStart, checkCount, checkSameType, copy, twinOf } from './transport.js';
import { exchangeStep, recvStep, runBlocking, sendStep, temporary, type Schedule } from './schedule.js';
import type { Buffer, CollectiveComm, PointToPoint } from './types.js';

/**
 * Below this many bytes allreduce uses recursive doubling (log2 p steps, whole buffer each
 * step: latency-bound sizes); from it on, Rabenseifner's reduce-scatter by recursive halving
 * + allgather by recursive doubling (2 log2 p steps, about 2x the buffer moved per rank:
 * bandwidth-bound sizes). 2 KiB is MPICH's MPIR_CVAR_ALLREDUCE_SHORT_MSG_SIZE.
 */
export const ALLREDUCE_LONG_BYTES = DEFAULT_TUNING.allreduceLongBytes;

/**
 * Non-powers of two (both algorithms), as in MPICH: with pof2 the largest power of two <= p
 * and rem = p - pof2, the first 2*rem ranks pair up; each even one hands its data to its
 * odd neighbour (which folds even op odd) and sits out; the pof2 survivors run the
 * algorithm under new ranks that keep rank order; at the end each odd rank sends the result
 * back to its even neighbour.
 *
 * Bit-identical results everywhere: every partial is computed as (lower ranks) op (higher
 * ranks), and each final element is computed once (by one rank of each exchanging pair
 * from the same two operands, or by one rank in Rabenseifner) and then copied, never
 * recomputed in another order.
 */
export function allreduce(comm: CollectiveComm, sbuf: MaybeInPlace, rbuf: Buffer, op: ReduceOp): void {
  runBlocking(allreduceSchedule(comm, sbuf, rbuf, op, Tag.allreduce));
}

export function* allreduceSchedule(comm: CollectiveComm, send: MaybeInPlace, rbuf: Buffer, op: ReduceOp, tag: number): Schedule {
  forbidInPlace('allreduce', 'receive buffer', rbuf, 'pass it as the send buffer on every rank');
  const sbuf = isInPlace(send) ? rbuf : send;
  checkOp('allreduce', op, sbuf);
  checkCount('allreduce', 'the receive buffer', rbuf, sbuf.count);
  checkSameType('allreduce', sbuf, rbuf);
  if (rbuf !== sbuf) copy(comm, rbuf, sbuf);
  const p = comm.size;
  if (p === 1 || sbuf.count === 0) {
    countAlgorithm('allreduce.trivial');
    return;
  }
  const tw = twinOf(comm);
  const r = comm.rank;
  let pof2 = 1;
  while (pof2 * 2 <= p) pof2 *= 2;
  const rem = p - pof2;
  const items = sbuf.count / op.unit;
  // Rabenseifner's halving pairs ranks pof2/2 apart first: out of rank order, so commutative ops only (as MPICH).
  const long = rbuf.byteLength >= tuning.allreduceLongBytes && items >= pof2 && op.commutative;
  countAlgorithm(long ? 'allreduce.rabenseifner' : 'allreduce.recursiveDoubling');

  const tmp = temporary(comm, rbuf.type, rbuf.count);
  try {
    // Fold the first 2*rem ranks into pof2 survivors.
    let newrank: number;
    if (r < 2 * rem) {
      if (r % 2 === 0) {
        yield* sendStep(tw, rbuf, r + 1, tag);
        newrank = -1;
      } else {
        yield* recvStep(tw, tmp, r - 1, tag);
        combineInto(comm, op, rbuf, tmp, rbuf);
        newrank = r >> 1;
      }
    } else {
      newrank = r - rem;
    }
    const real = (nr: number) => (nr < rem ? nr * 2 + 1 : nr + rem);

    if (newrank >= 0) {
      if (long) yield* rabenseifner(tw, op, rbuf, tmp, newrank, pof2, real, tag);
      else yield* recursiveDoubling(tw, op, rbuf, tmp, newrank, pof2, real, tag);
    }

    // Unfold: the survivors of the pairs hand the result back.
    if (r < 2 * rem) {
      if (r % 2 === 1) yield* sendStep(tw, rbuf, r - 1, tag);
      else yield* recvStep(tw, rbuf, r + 1, tag);
    }
  } finally {
    tmp.free();
  }
}

function* recursiveDoubling(
  tw: PointToPoint, op: ReduceOp, acc: Buffer, tmp: Buffer, newrank: number, pof2: number, real: (nr: number) => number, tag: number,
): Schedule {
  for (let mask = 1; mask < pof2; mask <<= 1) {
    const partner = newrank ^ mask;
    yield* exchangeStep(tw, acc, real(partner), tmp, real(partner), tag);
    if (partner < newrank) combineInto(tw, op, acc, tmp, acc);
    else combineInto(tw, op, acc, acc, tmp);
  }
}

/**
 * The buffer is cut into pof2 blocks of whole items. Reduce-scatter, halving: at distance
 * `mask` (pof2/2 down to 1) a rank keeps the half of its current block window on its side
 * of the pair, sends the other half and folds in the partner's copy of its own half; it
 * ends owning block `newrank`, fully reduced. Allgather, doubling: at distance 1 up to
 * pof2/2 partners swap their windows, which double until everyone holds every block.
 */
function* rabenseifner(
  tw: PointToPoint, op: ReduceOp, acc: Buffer, tmp: Buffer, newrank: number, pof2: number, real: (nr: number) => number, tag: number,
): Schedule {
  const items = acc.count / op.unit;
  const at = (block: number) => blockStart(items, pof2, block) * op.unit;
  const range = (b: Buffer, lo: number, hi: number) => b.subarray(at(lo), at(hi));

  let lo = 0;
  let hi = pof2;
  for (let mask = pof2 >> 1; mask >= 1; mask >>= 1) {
    const partner = newrank ^ mask;
    const mid = lo + mask;
    const lowerHalf = (newrank & mask) === 0;
    const [keepLo, keepHi, sendLo, sendHi] = lowerHalf ? [lo, mid, mid, hi] : [mid, hi, lo, mid];
    const mine = range(acc, keepLo, keepHi);
    const theirs = range(tmp, keepLo, keepHi);
    yield* exchangeStep(tw, range(acc, sendLo, sendHi), real(partner), theirs, real(partner), tag);
    if (partner < newrank) combineInto(tw, op, mine, theirs, mine);
    else combineInto(tw, op, mine, mine, theirs);
    lo = keepLo;
    hi = keepHi;
  }

  for (let mask = 1; mask < pof2; mask <<= 1) {
    const partner = newrank ^ mask;
    const theirLo = newrank & mask ? lo - mask : lo + mask;
    yield* exchangeStep(tw, range(acc, lo, lo + mask), real(partner), range(acc, theirLo, theirLo + mask), real(partner), tag);
    lo = Math.min(lo, theirLo);
  }
}
