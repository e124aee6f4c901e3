import { InvalidBuffer } from '../errors.js';
import { countAlgorithm } from './stats.js';
import { forbidInPlace, isInPlace, type MaybeInPlace } from './in-place.js';

import { Tag, checkRoot, checkSameType, copy, irecv, isend, twinOf } from './transport.js';
import { exchangeRound, runBlocking, temporary, type Schedule } from './schedule.js';
import { block, layout, type Layout } from './vector-args.js';
import type { Buffer, CollectiveComm, Waitable } from './types.js';

/**
 * The v-collectives: every rank's block has its own count and displacement (in elements).
 * Counts of zero put nothing on the wire: both sides know every count, so they agree on which
 * messages exist. MPICH's choices: gatherv and scatterv are linear (the root posts one
 * receive or send per rank with a nonzero block; a tree would forward blocks of unknown size
 * through temporaries), allgatherv is the ring (MPICH's choice for long or uneven blocks;
 * recursive doubling and Bruck are not done), alltoallv is alltoall's pairwise exchange.
 */

/** `rbuf`, `counts` and `displs` matter at the root only; rank i's block is its sbuf (sbuf.count === counts[i]). */
export function gatherv(
  comm: CollectiveComm, sbuf: MaybeInPlace, rbuf: Buffer | null | undefined,
  counts: readonly number[] | null | undefined, displs: readonly number[] | null | undefined, root: number,
): void {
  runBlocking(gathervSchedule(comm, sbuf, rbuf, counts, displs, root));
}

export function* gathervSchedule(
  comm: CollectiveComm, send: MaybeInPlace, rbuf: Buffer | null | undefined,
  counts: readonly number[] | null | undefined, displs: readonly number[] | null | undefined, root: number, tag: number = Tag.gatherv,
): Schedule {
  checkRoot('gatherv', comm, root);
  const p = comm.size;
  forbidInPlace('gatherv', 'receive buffer', rbuf, 'pass it as the root\'s send buffer');
  if (comm.rank !== root) {
    if (isInPlace(send)) throw new InvalidBuffer('gatherv: only the root may pass IN_PLACE (its block is then already in its receive buffer); the other ranks pass their send buffer');
    const sbuf = send;
    countAlgorithm('gatherv.linear');
    if (sbuf.count === 0) return;
    const round: Waitable[] = [];
    isend(twinOf(comm), sbuf, root, tag, round);
    yield round;
    return;
  }
  if (!rbuf) throw new InvalidBuffer('gatherv: the root passed no receive buffer; pass one that holds every block');
  const l = layout('gatherv', 'receive', p, counts, displs, rbuf);
  const sbuf = isInPlace(send) ? block(rbuf, l, root) : send;
  checkSameType('gatherv', sbuf, rbuf);
  checkOwnBlock('gatherv', 'send buffer', sbuf, l, root);
  countAlgorithm(p === 1 ? 'gatherv.trivial' : 'gatherv.linear');
  const round: Waitable[] = [];
  if (p > 1) {
    const tw = twinOf(comm);
    for (let src = 0; src < p; src++) if (src !== root) irecv(tw, block(rbuf, l, src), src, tag, round);
  }
  copy(comm, block(rbuf, l, root), sbuf);
  if (round.length) yield round;
}

/** `sbuf`, `counts` and `displs` matter at the root only; rank i receives counts[i] elements into rbuf. */
export function scatterv(
  comm: CollectiveComm, sbuf: Buffer | null | undefined, counts: readonly number[] | null | undefined,
  displs: readonly number[] | null | undefined, rbuf: MaybeInPlace, root: number,
): void {
  runBlocking(scattervSchedule(comm, sbuf, counts, displs, rbuf, root));
}

export function* scattervSchedule(
  comm: CollectiveComm, sbuf: Buffer | null | undefined, counts: readonly number[] | null | undefined,
  displs: readonly number[] | null | undefined, recv: MaybeInPlace, root: number, tag: number = Tag.scatterv,
): Schedule {
  checkRoot('scatterv', comm, root);
  const p = comm.size;
  forbidInPlace('scatterv', 'send buffer', sbuf, 'pass it as the root\'s receive buffer');
  if (comm.rank !== root) {
    if (isInPlace(recv)) throw new InvalidBuffer('scatterv: only the root may pass IN_PLACE (its block then stays in its send buffer); the other ranks pass their receive buffer');
    const rbuf = recv;
    countAlgorithm('scatterv.linear');
    if (rbuf.count === 0) return;
    const round: Waitable[] = [];
    irecv(twinOf(comm), rbuf, root, tag, round);
    yield round;
    return;
  }
  if (!sbuf) throw new InvalidBuffer('scatterv: the root passed no send buffer; pass one that holds every block');
  const l = layout('scatterv', 'send', p, counts, displs, sbuf);
  const rbuf = isInPlace(recv) ? block(sbuf, l, root) : recv;
  checkSameType('scatterv', sbuf, rbuf);
  checkOwnBlock('scatterv', 'receive buffer', rbuf, l, root);
  countAlgorithm(p === 1 ? 'scatterv.trivial' : 'scatterv.linear');
  const round: Waitable[] = [];
  if (p > 1) {
    const tw = twinOf(comm);
    for (let dst = 0; dst < p; dst++) if (dst !== root) isend(tw, block(sbuf, l, dst), dst, tag, round);
  }
  copy(comm, rbuf, block(sbuf, l, root));
  if (round.length) yield round;
}

/** Rank i contributes sbuf (counts[i] elements); every rank receives all blocks into rbuf at displs. Ring. */
export function allgatherv(
  comm: CollectiveComm, sbuf: MaybeInPlace, rbuf: Buffer, counts: readonly number[], displs?: readonly number[] | null,
): void {
  runBlocking(allgathervSchedule(comm, sbuf, rbuf, counts, displs));
}

export function* allgathervSchedule(
  comm: CollectiveComm, send: MaybeInPlace, rbuf: Buffer, counts: readonly number[], displs?: readonly number[] | null, tag: number = Tag.allgatherv,
): Schedule {
  const p = comm.size;
  const r = comm.rank;
  forbidInPlace('allgatherv', 'receive buffer', rbuf, 'pass it as the send buffer on every rank');
  const l = layout('allgatherv', 'receive', p, counts, displs, rbuf);
  const sbuf = isInPlace(send) ? block(rbuf, l, r) : send;
  checkSameType('allgatherv', sbuf, rbuf);
  checkOwnBlock('allgatherv', 'send buffer', sbuf, l, r);
  copy(comm, block(rbuf, l, r), sbuf);
  if (p === 1 || l.counts.every((c) => c === 0)) {
    countAlgorithm('allgatherv.trivial');
    return;
  }
  countAlgorithm('allgatherv.ring');
  const tw = twinOf(comm);
  const right = (r + 1) % p;
  const left = (r - 1 + p) % p;
  for (let i = 0; i < p - 1; i++) {
    const round = exchangeRound(tw, block(rbuf, l, (r - i + p) % p), right, block(rbuf, l, (r - i - 1 + p) % p), left, tag);
    if (round.length) yield round;
  }
}

/**
 * Block j of sbuf (scounts[j] at sdispls[j]) goes to rank j; block i of rbuf (rcounts[i] at
 * rdispls[i]) comes from rank i. Pairwise exchange, partners as in alltoall.
 */
export function alltoallv(
  comm: CollectiveComm, sbuf: MaybeInPlace, scounts: readonly number[], sdispls: readonly number[] | null | undefined,
  rbuf: Buffer, rcounts: readonly number[], rdispls: readonly number[] | null | undefined,
): void {
  runBlocking(alltoallvSchedule(comm, sbuf, scounts, sdispls, rbuf, rcounts, rdispls));
}

export function* alltoallvSchedule(
  comm: CollectiveComm, send: MaybeInPlace, scounts: readonly number[], sdispls: readonly number[] | null | undefined,
  rbuf: Buffer, rcounts: readonly number[], rdispls: readonly number[] | null | undefined, tag: number = Tag.alltoallv,
): Schedule {
  forbidInPlace('alltoallv', 'receive buffer', rbuf, 'pass it as the send buffer on every rank');
  if (!isInPlace(send)) return yield* pairwiseV(comm, send, scounts, sdispls, rbuf, rcounts, rdispls, tag);
  // IN_PLACE: the send side is the receive side (counts and displacements too), copied aside first
  const sbuf = temporary(comm, rbuf.type, rbuf.count);
  try {
    copy(comm, sbuf, rbuf);
    yield* pairwiseV(comm, sbuf, rcounts, rdispls, rbuf, rcounts, rdispls, tag);
  } finally {
    sbuf.free();
  }
}

function* pairwiseV(
  comm: CollectiveComm, sbuf: Buffer, scounts: readonly number[], sdispls: readonly number[] | null | undefined,
  rbuf: Buffer, rcounts: readonly number[], rdispls: readonly number[] | null | undefined, tag: number,
): Schedule {
  const p = comm.size;
  const r = comm.rank;
  checkSameType('alltoallv', sbuf, rbuf);
  const sl = layout('alltoallv', 'send', p, scounts, sdispls, sbuf);
  const rl = layout('alltoallv', 'receive', p, rcounts, rdispls, rbuf);
  if (sl.counts[r] !== rl.counts[r]) {
    throw new InvalidBuffer(`alltoallv: this rank sends itself ${sl.counts[r]} elements but expects ${rl.counts[r]}; make scounts[rank] equal rcounts[rank]`);
  }
  if (sbuf.addr === rbuf.addr && sbuf.count > 0 && rbuf.count > 0) {
    throw new InvalidBuffer('alltoallv: send and receive buffers are the same memory; pass separate buffers or IN_PLACE as the send buffer');
  }
  copy(comm, block(rbuf, rl, r), block(sbuf, sl, r));
  if (p === 1) {
    countAlgorithm('alltoallv.trivial');
    return;
  }
  countAlgorithm('alltoallv.pairwise');
  const tw = twinOf(comm);
  const xor = (p & (p - 1)) === 0;
  for (let step = 1; step < p; step++) {
    const dest = xor ? r ^ step : (r + step) % p;
    const source = xor ? r ^ step : (r - step + p) % p;
    const round = exchangeRound(tw, block(sbuf, sl, dest), dest, block(rbuf, rl, source), source, tag);
    if (round.length) yield round;
  }
}

function checkOwnBlock(name: string, what: string, buf: Buffer, l: Layout, rank: number): void {
  if (buf.count !== l.counts[rank]) {
    throw new InvalidBuffer(`${name}: the ${what} holds ${buf.count} elements but counts[${rank}] is ${l.counts[rank]}; make them agree`);
  }
}
