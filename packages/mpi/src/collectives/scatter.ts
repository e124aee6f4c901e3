import { InvalidBuffer } from '../errors.js';
import { subtreeSize } from './gather.js';
import { tuning } from './tuning.js';
import { countAlgorithm } from './stats.js';
import { forbidInPlace, isInPlace, ownBlock, type MaybeInPlace } from './in-place.js';

import { Tag, checkCount, checkRoot, checkSameType, copy, isend, twinOf } from './transport.js';
import { recvStep, runBlocking, sendStep, temporary, type Schedule } from './schedule.js';
import type { Buffer, CollectiveComm, PointToPoint, Waitable } from './types.js';

/**
 * Mirror of gather: binomial tree below tuning.gatherLinearBytes per rank, linear (the root
 * posts one send per rank) from it on. `sbuf` (count = p × rbuf.count) is only read on
 * the root; other ranks may pass null.
 */
export function scatter(comm: CollectiveComm, sbuf: Buffer | null | undefined, rbuf: MaybeInPlace, root: number): void {
  runBlocking(scatterSchedule(comm, sbuf, rbuf, root, Tag.scatter));
}

export function* scatterSchedule(comm: CollectiveComm, sbuf: Buffer | null | undefined, recv: MaybeInPlace, root: number, tag: number): Schedule {
  checkRoot('scatter', comm, root);
  const p = comm.size;
  const isRoot = comm.rank === root;
  forbidInPlace('scatter', 'send buffer', sbuf, 'pass it as the root\'s receive buffer');
  if (isInPlace(recv) && !isRoot) throw new InvalidBuffer('scatter: only the root may pass IN_PLACE (its block then stays in its send buffer); the other ranks pass their receive buffer');
  if (isInPlace(recv) && !sbuf) throw new InvalidBuffer('scatter: the root passed IN_PLACE and no send buffer; pass one of size × the receive count');
  const rbuf = isInPlace(recv) ? ownBlock('scatter', sbuf!, p, root) : recv;
  const n = rbuf.count;
  if (isRoot) {
    if (!sbuf) throw new InvalidBuffer('scatter: the root passed no send buffer; pass one of size × the receive count');
    checkCount('scatter', 'the send buffer', sbuf, n * p);
    checkSameType('scatter', sbuf, rbuf);
  }
  if (p === 1 || n === 0) {
    countAlgorithm('scatter.trivial');
    if (isRoot) copy(comm, rbuf, sbuf!);
    return;
  }
  const tw = twinOf(comm);
  if (rbuf.byteLength >= tuning.gatherLinearBytes) {
    countAlgorithm('scatter.linear');
    if (!isRoot) return yield* recvStep(tw, rbuf, root, tag);
    const reqs: Waitable[] = [];
    for (let dst = 0; dst < p; dst++) if (dst !== root) isend(tw, sbuf!.subarray(dst * n, (dst + 1) * n), dst, tag, reqs);
    copy(comm, rbuf, sbuf!.subarray(root * n, (root + 1) * n));
    if (reqs.length) yield reqs;
    return;
  }
  countAlgorithm('scatter.binomial');
  yield* binomialScatter(comm, tw, sbuf ?? null, rbuf, root, tag);
}

/**
 * Each relative rank receives its subtree's blocks from its parent in one message, hands
 * the upper parts to its children (largest first) and keeps block 0. Leaves receive straight
 * into rbuf; a root at rank 0 sends straight from sbuf; another root first rotates sbuf
 * into relative order in a temporary.
 */
function* binomialScatter(comm: CollectiveComm, tw: PointToPoint, sbuf: Buffer | null, rbuf: Buffer, root: number, tag: number): Schedule {
  const p = comm.size;
  const n = rbuf.count;
  const vr = (comm.rank - root + p) % p;
  const abs = (v: number) => (v + root) % p;
  const size = subtreeSize(vr, p);
  if (size === 1) return yield* recvStep(tw, rbuf, abs(vr - (vr & -vr)), tag);

  let lowbit = 1;
  while (lowbit < p && !(vr & lowbit)) lowbit <<= 1;
  const distribute = function* (data: Buffer): Schedule {
    if (vr !== 0) yield* recvStep(tw, data.subarray(0, n * size), abs(vr - lowbit), tag);
    for (let mask = lowbit >> 1; mask > 0; mask >>= 1) {
      if (vr + mask < p) yield* sendStep(tw, data.subarray(n * mask, n * Math.min(2 * mask, size)), abs(vr + mask), tag);
    }
    copy(comm, rbuf, data.subarray(0, n));
  };
  if (vr === 0 && root === 0) return yield* distribute(sbuf!);
  const data = temporary(comm, rbuf.type, n * size);
  try {
    if (vr === 0) {
      copy(comm, data.subarray(0, (p - root) * n), sbuf!.subarray(root * n, p * n));
      copy(comm, data.subarray((p - root) * n, p * n), sbuf!.subarray(0, root * n));
    }
    yield* distribute(data);
  } finally {
    data.free();
  }
}
