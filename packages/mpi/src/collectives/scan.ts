import { checkOp, combineInto } from './combine.js';
import { forbidInPlace, isInPlace, ownBlock, type MaybeInPlace } from './in-place.js';

import type { ReduceOp } from './ops.js';
import { toFn, type ReduceFn } from './objects.js';
import { countAlgorithm } from './stats.js';
import { Tag, checkCount, checkSameType, copy, isendObject, twinOf } from './transport.js';
import { exchangeRound, runBlocking, temporary, type Schedule } from './schedule.js';
import type { Buffer, CollectiveComm } from './types.js';

/**
 * Inclusive (scan) and exclusive (exscan) prefix reductions by recursive doubling (MPICH's
 * MPIR_Scan_intra_recursive_doubling / MPIR_Exscan_intra_recursive_doubling): at distance
 * `mask` a rank swaps its partial — the reduction of the aligned window of `mask` ranks
 * around it — with rank XOR mask; what comes from a lower rank also folds into the result.
 * ceil(log2 p) rounds for any p. Every fold is (lower ranks) op (higher ranks), so a
 * non-commutative function is applied in rank order.
 */
export function scan(comm: CollectiveComm, sbuf: MaybeInPlace, rbuf: Buffer, op: ReduceOp): void {
  runBlocking(scanSchedule(comm, sbuf, rbuf, op, false));
}

/** Rank i gets the reduction of ranks 0..i-1; rank 0's rbuf is left as it is (undefined in MPI). */
export function exscan(comm: CollectiveComm, sbuf: MaybeInPlace, rbuf: Buffer, op: ReduceOp): void {
  runBlocking(scanSchedule(comm, sbuf, rbuf, op, true));
}

export function* scanSchedule(
  comm: CollectiveComm, send: MaybeInPlace, rbuf: Buffer, op: ReduceOp, exclusive: boolean, tag: number = exclusive ? Tag.exscan : Tag.scan,
): Schedule {
  const name = exclusive ? 'exscan' : 'scan';
  forbidInPlace(name, 'receive buffer', rbuf, 'pass it as the send buffer');
  const sbuf = isInPlace(send) ? rbuf : send;
  checkOp(name, op, sbuf);
  checkCount(name, 'the receive buffer', rbuf, sbuf.count);
  checkSameType(name, sbuf, rbuf);
  const p = comm.size;
  const r = comm.rank;
  if (!exclusive && rbuf !== sbuf) copy(comm, rbuf, sbuf);
  if (p === 1 || sbuf.count === 0) {
    countAlgorithm(`${name}.trivial`);
    return;
  }
  countAlgorithm(`${name}.recursiveDoubling`);
  const tw = twinOf(comm);
  const partial = temporary(comm, sbuf.type, sbuf.count);
  const incoming = temporary(comm, sbuf.type, sbuf.count);
  try {
    copy(comm, partial, sbuf);
    let have = !exclusive; // exscan: rbuf holds nothing until the first lower partial arrives
    for (let mask = 1; mask < p; mask <<= 1) {
      const partner = r ^ mask;
      if (partner >= p) continue;
      yield exchangeRound(tw, partial, partner, incoming, partner, tag);
      if (partner < r) {
        combineInto(comm, op, partial, incoming, partial);
        if (have) combineInto(comm, op, rbuf, incoming, rbuf);
        else copy(comm, rbuf, incoming);
        have = true;
      } else {
        combineInto(comm, op, partial, partial, incoming);
      }
    }
  } finally {
    incoming.free();
    partial.free();
  }
}

/** scan of any msgpack-able value with an associative function (or an op's combine). */
export function scanObject<V>(comm: CollectiveComm, value: V, op: ReduceFn<V> | ReduceOp): V {
  return scanObjects(comm, value, op, false) as V;
}

/** exscan of values; undefined on rank 0. */
export function exscanObject<V>(comm: CollectiveComm, value: V, op: ReduceFn<V> | ReduceOp): V | undefined {
  return scanObjects(comm, value, op, true);
}

function scanObjects<V>(comm: CollectiveComm, value: V, op: ReduceFn<V> | ReduceOp, exclusive: boolean): V | undefined {
  const name = exclusive ? 'exscanObject' : 'scanObject';
  const fn = toFn(name, op);
  const p = comm.size;
  const r = comm.rank;
  countAlgorithm(p === 1 ? `${name}.trivial` : `${name}.recursiveDoubling`);
  let result: V | undefined = exclusive ? undefined : value;
  let have = !exclusive;
  let partial = value;
  const tw = twinOf(comm);
  for (let mask = 1; mask < p; mask <<= 1) {
    const partner = r ^ mask;
    if (partner >= p) continue;
    // The send first, so a rendezvous-sized object cannot deadlock the pair.
    const req = isendObject(tw, partial, partner, Tag.scanObject);
    const theirs = tw.recvObject<V>(partner, Tag.scanObject);
    req.wait();
    if (partner < r) {
      partial = fn(theirs, partial);
      result = have ? fn(theirs, result as V) : theirs;
      have = true;
    } else {
      partial = fn(partial, theirs);
    }
  }
  return result;
}
