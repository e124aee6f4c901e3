import { checkOp, combineInto } from './combine.js';
import { forbidInPlace, isInPlace, ownBlock, type MaybeInPlace } from './in-place.js';

import { InvalidBuffer } from '../errors.js';
import type { ReduceOp } from './ops.js';
import { countAlgorithm } from './stats.js';
import { Tag, checkCount, checkRoot, checkSameType, copy, twinOf } from './transport.js';
import { recvStep, runBlocking, sendStep, temporary, type Schedule } from './schedule.js';
import type { Buffer, CollectiveComm } from './types.js';

/**
 * Binomial-tree reduce over ranks relative to the root: at step 2^k a rank whose bit k is
 * set sends its partial result to vr - 2^k and leaves; the others fold in what vr + 2^k
 * sends. ceil(log2 p) steps. The partial of the lower relative rank is always the left
 * operand, so the evaluation order is fixed for a given (p, root). MPICH switches to
 * reduce-scatter + gather above 2 KiB; we keep the tree at every size (one algorithm to
 * verify; reduce is not on the study's critical path). A non-commutative op runs the tree
 * rooted at rank 0, in rank order, and rank 0 forwards the result to the root.
 *
 * `rbuf` is only read on the root; other ranks may pass null.
 */
export function reduce(comm: CollectiveComm, sbuf: MaybeInPlace, rbuf: Buffer | null | undefined, op: ReduceOp, root: number): void {
  runBlocking(reduceSchedule(comm, sbuf, rbuf, op, root, Tag.reduce));
}

export function* reduceSchedule(
  comm: CollectiveComm, send: MaybeInPlace, rbuf: Buffer | null | undefined, op: ReduceOp, root: number, tag: number,
): Schedule {
  checkRoot('reduce', comm, root);
  const p = comm.size;
  const isRoot = comm.rank === root;
  forbidInPlace('reduce', 'receive buffer', rbuf, 'pass it as the root\'s send buffer');
  if (isInPlace(send) && !isRoot) throw new InvalidBuffer('reduce: only the root may pass IN_PLACE (its data is then read from its receive buffer); the other ranks pass their send buffer');
  if (isInPlace(send) && !rbuf) throw rootNeedsRbuf();
  const sbuf = isInPlace(send) ? rbuf! : send;
  checkOp('reduce', op, sbuf);
  if (isRoot) {
    if (!rbuf) throw rootNeedsRbuf();
    checkCount('reduce', 'the receive buffer', rbuf, sbuf.count);
    checkSameType('reduce', sbuf, rbuf);
  }
  if (p === 1 || sbuf.count === 0) {
    countAlgorithm('reduce.trivial');
    if (isRoot && rbuf !== sbuf) copy(comm, rbuf!, sbuf);
    return;
  }
  // A non-commutative op must see the ranks in order, which a tree over ranks relative to the
  // root breaks: the tree is then rooted at rank 0, which forwards the result (as MPICH does).
  const top = op.commutative ? root : 0;
  countAlgorithm(top === root ? 'reduce.binomial' : 'reduce.binomialRankOrder');
  const tw = twinOf(comm);
  const vr = (comm.rank - top + p) % p;
  const abs = (v: number) => (v + top) % p;

  // A leaf (odd relative rank) sends its contribution as it is and needs no memory.
  if (vr & 1) {
    yield* sendStep(tw, sbuf, abs(vr - 1), tag);
  } else {
    const incoming = temporary(comm, sbuf.type, sbuf.count);
    const intoRbuf = isRoot && top === root;
    const acc = intoRbuf ? rbuf! : temporary(comm, sbuf.type, sbuf.count);
    try {
      // `partial` starts as sbuf, read-only; the first fold writes into the accumulator.
      let partial: Buffer = sbuf;
      for (let mask = 1; mask < p; mask <<= 1) {
        if (vr & mask) {
          yield* sendStep(tw, partial, abs(vr - mask), tag);
          break;
        }
        if (vr + mask < p) {
          yield* recvStep(tw, incoming, abs(vr + mask), tag);
          combineInto(comm, op, acc, partial, incoming);
          partial = acc;
        }
      }
      if (vr === 0 && top !== root) yield* sendStep(tw, partial, root, tag);
    } finally {
      if (!intoRbuf) acc.free();
      incoming.free();
    }
  }
  if (isRoot && top !== root) yield* recvStep(tw, rbuf!, top, tag);
}

function rootNeedsRbuf(): Error {
  return new InvalidBuffer("reduce: the root passed no receive buffer; pass one with the send buffer's count");
}
