import { countAlgorithm } from './stats.js';
import { forbidInPlace } from './in-place.js';
import { DEFAULT_TUNING, tuning } from './tuning.js';
import { Tag, blockStart, checkRoot, twinOf } from './transport.js';
import { exchangeStep, recvStep, runBlocking, sendStep, type Schedule } from './schedule.js';
import type { Buffer, CollectiveComm, PointToPoint } from './types.js';

/**
 * Above this many bytes (and from 8 ranks on) bcast switches from the binomial tree to
 * scatter + ring allgather (van de Geijn): the tree sends the whole buffer log2 p times
 * along its deepest path, the scatter/allgather pair moves about 2x the buffer per rank
 * whatever p is. MPICH's defaults (12 KiB, 8 ranks) are used as they are; 12 KiB is also
 * our default eager threshold, so the long path is the rendezvous path.
 */
export const BCAST_LONG_BYTES = DEFAULT_TUNING.bcastLongBytes;
export const BCAST_LONG_MIN_RANKS = DEFAULT_TUNING.bcastLongMinRanks;

export function bcast(comm: CollectiveComm, buf: Buffer, root: number): void {
  runBlocking(bcastSchedule(comm, buf, root, Tag.bcast));
}

export function* bcastSchedule(comm: CollectiveComm, buf: Buffer, root: number, tag: number): Schedule {
  checkRoot('bcast', comm, root);
  forbidInPlace('bcast', 'buffer', buf, 'bcast reads and writes one buffer already: pass it');
  const p = comm.size;
  if (p === 1 || buf.count === 0) {
    countAlgorithm('bcast.trivial');
    return;
  }
  const tw = twinOf(comm);
  if (buf.byteLength < tuning.bcastLongBytes || p < tuning.bcastLongMinRanks || buf.count < p) {
    countAlgorithm('bcast.binomial');
    yield* binomialBcast(tw, buf, root, tag);
  } else {
    countAlgorithm('bcast.scatterAllgather');
    yield* scatterRingAllgather(tw, buf, root, tag);
  }
}

/**
 * Binomial tree over ranks relative to the root (vr = (rank - root) mod p): vr receives from
 * vr minus its lowest set bit, then sends to vr + 2^k for every 2^k below that bit.
 */
function* binomialBcast(tw: PointToPoint, buf: Buffer, root: number, tag: number): Schedule {
  const p = tw.size;
  const vr = (tw.rank - root + p) % p;
  let mask = 1;
  while (mask < p) {
    if (vr & mask) {
      yield* recvStep(tw, buf, (vr - mask + root) % p, tag);
      break;
    }
    mask <<= 1;
  }
  for (mask >>= 1; mask > 0; mask >>= 1) {
    if (vr + mask < p) yield* sendStep(tw, buf, (vr + mask + root) % p, tag);
  }
}

/**
 * The buffer is cut into p blocks (block i belongs to relative rank i). A binomial scatter
 * leaves each relative rank holding the blocks of its subtree, in place in the user's
 * buffer, then a ring allgather circulates the blocks: p-1 steps, each rank forwarding the
 * block it received in the step before.
 */
function* scatterRingAllgather(tw: PointToPoint, buf: Buffer, root: number, tag: number): Schedule {
  const p = tw.size;
  const vr = (tw.rank - root + p) % p;
  const abs = (v: number) => (v + root) % p;
  const blocks = (from: number, to: number) =>
    buf.subarray(blockStart(buf.count, p, Math.min(from, p)), blockStart(buf.count, p, Math.min(to, p)));

  // Scatter: the subtree of vr at level `mask` is relative ranks [vr, vr + mask).
  let mask = 1;
  while (mask < p) {
    if (vr & mask) {
      yield* recvStep(tw, blocks(vr, vr + mask), abs(vr - mask), tag);
      break;
    }
    mask <<= 1;
  }
  for (mask >>= 1; mask > 0; mask >>= 1) {
    if (vr + mask < p) yield* sendStep(tw, blocks(vr + mask, vr + 2 * mask), abs(vr + mask), tag);
  }

  // Ring allgather of the blocks, relative ranks.
  const right = abs(vr + 1);
  const left = abs(vr - 1 + p);
  for (let i = 0; i < p - 1; i++) {
    const out = (vr - i + p) % p;
    const inn = (vr - i - 1 + p) % p;
    yield* exchangeStep(tw, blocks(out, out + 1), right, blocks(inn, inn + 1), left, tag);
  }
}
