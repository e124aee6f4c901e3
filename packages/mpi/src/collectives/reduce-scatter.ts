import { InvalidBuffer } from '../errors.js';
import { checkOp, combineInto } from './combine.js';
import { forbidInPlace, isInPlace, type MaybeInPlace } from './in-place.js';
import type { ReduceOp } from './ops.js';
import { countAlgorithm } from './stats.js';
import { Tag, checkSameType, copy, twinOf } from './transport.js';
import { exchangeRound, runBlocking, temporary, type Schedule } from './schedule.js';
import { block, layout } from './vector-args.js';
import type { Buffer, CollectiveComm } from './types.js';

/**
 * sbuf (the sum of counts elements, on every rank) is reduced element-wise across ranks and
 * block i of the result (counts[i] elements, packed in rank order) lands in rank i's rbuf.
 *
 * Pairwise exchange (MPICH's MPIR_Reduce_scatter_intra_pairwise): in step s = 1..p-1 a rank
 * sends block (rank + s) of its input to that rank and receives its own block from rank - s,
 * so every byte crosses the wire once and no rank ever holds more than one block per peer.
 * The p contributions to a block are then folded in rank order, (((c0 op c1) op c2) ...), so
 * the evaluation order is fixed whatever order the messages arrived in.
 */
export function reduceScatter(comm: CollectiveComm, sbuf: MaybeInPlace, rbuf: Buffer, counts: readonly number[], op: ReduceOp): void {
  runBlocking(reduceScatterSchedule(comm, sbuf, rbuf, counts, op));
}

/** reduceScatter with every block rbuf.count elements; sbuf holds p × rbuf.count. */
export function reduceScatterBlock(comm: CollectiveComm, sbuf: MaybeInPlace, rbuf: Buffer, op: ReduceOp): void {
  runBlocking(reduceScatterBlockSchedule(comm, sbuf, rbuf, op));
}

export function* reduceScatterBlockSchedule(comm: CollectiveComm, sbuf: MaybeInPlace, rbuf: Buffer, op: ReduceOp, tag: number = Tag.reduceScatter): Schedule {
  if (isInPlace(sbuf)) {
    // rbuf holds the size × n input; the result is its first n elements
    if (rbuf.count % comm.size !== 0) {
      throw new InvalidBuffer(`reduceScatterBlock: with IN_PLACE the receive buffer holds the input, size × the block count, but its ${rbuf.count} elements do not split into ${comm.size} blocks`);
    }
    return yield* reduceScatterSchedule(comm, sbuf, rbuf, new Array<number>(comm.size).fill(rbuf.count / comm.size), op, 'reduceScatterBlock', tag);
  }
  if (sbuf.count !== rbuf.count * comm.size) {
    throw new InvalidBuffer(`reduceScatterBlock: the send buffer holds ${sbuf.count} elements but ${comm.size} × ${rbuf.count} are needed; size it as size × the receive count`);
  }
  yield* reduceScatterSchedule(comm, sbuf, rbuf, new Array<number>(comm.size).fill(rbuf.count), op, 'reduceScatterBlock', tag);
}

export function* reduceScatterSchedule(
  comm: CollectiveComm, send: MaybeInPlace, recv: Buffer, counts: readonly number[], op: ReduceOp, name = 'reduceScatter', tag: number = Tag.reduceScatter,
): Schedule {
  forbidInPlace(name, 'receive buffer', recv, 'pass it as the send buffer');
  if (!isInPlace(send)) return yield* pairwise(comm, send, recv, counts, op, name, tag);
  // IN_PLACE: rbuf holds the whole input; it is copied aside and this rank's block lands at rbuf's start
  const total = Array.isArray(counts) ? counts.reduce((a, b) => a + b, 0) : NaN;
  if (!(recv.count >= total)) {
    throw new InvalidBuffer(`${name}: with IN_PLACE the receive buffer holds the input (the sum of counts, ${total} elements) but has ${recv.count}; size it for the input`);
  }
  const input = temporary(comm, recv.type, total);
  try {
    copy(comm, input, recv.subarray(0, total));
    yield* pairwise(comm, input, recv.subarray(0, counts[comm.rank]!), counts, op, name, tag);
  } finally {
    input.free();
  }
}

function* pairwise(
  comm: CollectiveComm, sbuf: Buffer, rbuf: Buffer, counts: readonly number[], op: ReduceOp, name: string, tag: number,
): Schedule {
  const p = comm.size;
  const r = comm.rank;
  checkOp(name, op, sbuf);
  checkSameType(name, sbuf, rbuf);
  const l = layout(name, 'send', p, counts, null, sbuf);
  const total = l.counts.reduce((a, b) => a + b, 0);
  if (sbuf.count !== total) {
    throw new InvalidBuffer(`${name}: the send buffer holds ${sbuf.count} elements but the counts add up to ${total}; pass one block per rank`);
  }
  for (const c of l.counts) {
    if (c % op.unit !== 0) throw new InvalidBuffer(`${name}: ${op.name} reduces items of ${op.unit} elements but a count is ${c}; pass multiples of ${op.unit}`);
  }
  const n = l.counts[r]!;
  if (rbuf.count !== n) {
    throw new InvalidBuffer(`${name}: the receive buffer holds ${rbuf.count} elements but counts[${r}] is ${n}; make them agree`);
  }
  if (p === 1 || total === 0) {
    countAlgorithm(`${name}.trivial`);
    copy(comm, rbuf, block(sbuf, l, r));
    return;
  }
  countAlgorithm(`${name}.pairwise`);
  const tw = twinOf(comm);
  // Slot q of `theirs` holds rank q's contribution to this rank's block (slot r stays unused).
  const theirs = temporary(comm, rbuf.type, n * p);
  try {
    const contribution = (q: number) => (q === r ? block(sbuf, l, r) : theirs.subarray(q * n, (q + 1) * n));
    for (let s = 1; s < p; s++) {
      const dest = (r + s) % p;
      const source = (r - s + p) % p;
      const round = exchangeRound(tw, block(sbuf, l, dest), dest, contribution(source), source, tag);
      if (round.length) yield round;
    }
    if (n === 0) return;
    combineInto(comm, op, rbuf, contribution(0), contribution(1));
    for (let q = 2; q < p; q++) combineInto(comm, op, rbuf, rbuf, contribution(q));
  } finally {
    theirs.free();
  }
}
