import { InvalidBuffer } from '../errors.js';
import { countAlgorithm } from './stats.js';
import { forbidInPlace, isInPlace, ownBlock, type MaybeInPlace } from './in-place.js';

import { DEFAULT_TUNING, tuning } from './tuning.js';
import { Tag, checkCount, checkRoot, checkSameType, copy, irecv, twinOf } from './transport.js';
import { recvStep, runBlocking, sendStep, temporary, type Schedule } from './schedule.js';
import type { Buffer, CollectiveComm, PointToPoint, Waitable } from './types.js';

/**
 * Below this many bytes per rank, gather and scatter use a binomial tree (log2 p steps;
 * inner nodes forward their subtree's blocks through a temporary); from it on, a linear
 * algorithm (the root posts one receive per rank straight into its buffer), which moves
 * every byte once, without the tree's store-and-forward copies. Open MPI's tuned
 * component makes the same cut; 12 KiB matches the eager threshold.
 */
export const GATHER_LINEAR_BYTES = DEFAULT_TUNING.gatherLinearBytes;

/** `rbuf` (count = p × sbuf.count) is only used on the root; other ranks may pass null. */
export function gather(comm: CollectiveComm, sbuf: MaybeInPlace, rbuf: Buffer | null | undefined, root: number): void {
  runBlocking(gatherSchedule(comm, sbuf, rbuf, root, Tag.gather));
}

export function* gatherSchedule(comm: CollectiveComm, send: MaybeInPlace, rbuf: Buffer | null | undefined, root: number, tag: number): Schedule {
  checkRoot('gather', comm, root);
  const p = comm.size;
  const isRoot = comm.rank === root;
  forbidInPlace('gather', 'receive buffer', rbuf, 'pass it as the root\'s send buffer');
  if (isInPlace(send) && !isRoot) throw new InvalidBuffer('gather: only the root may pass IN_PLACE (its block is then already in its receive buffer); the other ranks pass their send buffer');
  if (isInPlace(send) && !rbuf) throw new InvalidBuffer('gather: the root passed IN_PLACE and no receive buffer; pass one of size × the send count');
  const sbuf = isInPlace(send) ? ownBlock('gather', rbuf!, p, root) : send;
  const n = sbuf.count;
  if (isRoot) {
    if (!rbuf) throw new InvalidBuffer('gather: the root passed no receive buffer; pass one of size × the send count');
    checkCount('gather', 'the receive buffer', rbuf, n * p);
    checkSameType('gather', sbuf, rbuf);
  }
  if (p === 1 || n === 0) {
    countAlgorithm('gather.trivial');
    if (isRoot) copy(comm, rbuf!, sbuf);
    return;
  }
  const tw = twinOf(comm);
  if (sbuf.byteLength >= tuning.gatherLinearBytes) {
    countAlgorithm('gather.linear');
    if (!isRoot) return yield* sendStep(tw, sbuf, root, tag);
    const reqs: Waitable[] = [];
    for (let src = 0; src < p; src++) if (src !== root) irecv(tw, rbuf!.subarray(src * n, (src + 1) * n), src, tag, reqs);
    copy(comm, rbuf!.subarray(root * n, (root + 1) * n), sbuf);
    if (reqs.length) yield reqs;
    return;
  }
  countAlgorithm('gather.binomial');
  yield* binomialGather(comm, tw, sbuf, rbuf ?? null, root, tag);
}

/** Relative rank vr's subtree is [vr, vr + lowbit(vr)) clipped to p; the root's is everything. */
export function subtreeSize(vr: number, p: number): number {
  if (vr === 0) return p;
  return Math.min(vr & -vr, p - vr);
}

/**
 * Each relative rank collects its subtree's blocks, in relative order, then sends them up
 * in one message. Leaves send their own buffer; a root at rank 0 collects straight into
 * rbuf; another root collects into a temporary and rotates it into rank order.
 */
function* binomialGather(comm: CollectiveComm, tw: PointToPoint, sbuf: Buffer, rbuf: Buffer | null, root: number, tag: number): Schedule {
  const p = comm.size;
  const n = sbuf.count;
  const vr = (comm.rank - root + p) % p;
  const abs = (v: number) => (v + root) % p;
  const size = subtreeSize(vr, p);
  if (size === 1) return yield* sendStep(tw, sbuf, abs(vr - (vr & -vr)), tag);

  const collect = function* (acc: Buffer): Schedule {
    copy(comm, acc.subarray(0, n), sbuf);
    for (let mask = 1; mask < p; mask <<= 1) {
      if (vr & mask) return yield* sendStep(tw, acc.subarray(0, n * size), abs(vr - mask), tag);
      if (vr + mask < p) yield* recvStep(tw, acc.subarray(n * mask, n * Math.min(2 * mask, size)), abs(vr + mask), tag);
    }
  };
  if (vr === 0 && root === 0) return yield* collect(rbuf!);
  const acc = temporary(comm, sbuf.type, n * size);
  try {
    yield* collect(acc);
    if (vr === 0) {
      // Relative blocks [0, p - root) are ranks root..p-1; the rest wrap to 0..root-1.
      copy(comm, rbuf!.subarray(root * n, p * n), acc.subarray(0, (p - root) * n));
      copy(comm, rbuf!.subarray(0, root * n), acc.subarray((p - root) * n, p * n));
    }
  } finally {
    acc.free();
  }
}
