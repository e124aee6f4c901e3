import { PROC_NULL } from '../constants.js';
import { InvalidBuffer } from '../errors.js';
import { countAlgorithm } from './stats.js';
import { Tag, checkCount, checkSameType, irecv, isend, twinOf } from './transport.js';
import { runBlocking, type Schedule } from './schedule.js';
import type { Buffer, CollectiveComm, Waitable } from './types.js';

/**
 * Neighbourhood collectives over a Cartesian topology's neighbour list: for each dimension d,
 * neighbour 2d is one step down and 2d + 1 one step up (PROC_NULL past a non-periodic edge).
 * One round: every receive and send posted at once, nothing to or from PROC_NULL. A message
 * carries its direction in its tag (Tag.neighbor + 2d going down, + 2d + 1 going up), so on a
 * periodic dimension of size 1 or 2, where both neighbours are the same rank, the block coming
 * from below never lands in the slot for the block coming from above.
 */
export function neighborAllgather(comm: CollectiveComm, neighbors: readonly number[], sbuf: Buffer, rbuf: Buffer): void {
  checkCount('neighborAllgather', 'the receive buffer', rbuf, sbuf.count * neighbors.length);
  checkSameType('neighborAllgather', sbuf, rbuf);
  runBlocking(neighborSchedule(comm, neighbors, () => sbuf, rbuf, sbuf.count, 'neighborAllgather'));
}

export function neighborAlltoall(comm: CollectiveComm, neighbors: readonly number[], sbuf: Buffer, rbuf: Buffer): void {
  checkCount('neighborAlltoall', 'the receive buffer', rbuf, sbuf.count);
  checkSameType('neighborAlltoall', sbuf, rbuf);
  const k = neighbors.length;
  if (k > 0 && sbuf.count % k !== 0) {
    throw new InvalidBuffer(`neighborAlltoall: the send buffer holds ${sbuf.count} elements, not ${k} equal blocks (one per neighbour); size it as ${k} × the block`);
  }
  const n = k === 0 ? 0 : sbuf.count / k;
  runBlocking(neighborSchedule(comm, neighbors, (i) => sbuf.subarray(i * n, (i + 1) * n), rbuf, n, 'neighborAlltoall'));
}

function* neighborSchedule(
  comm: CollectiveComm, neighbors: readonly number[], outgoing: (i: number) => Buffer, rbuf: Buffer, n: number, name: string,
): Schedule {
  countAlgorithm(`${name}.direct`);
  if (n === 0 || neighbors.every((x) => x === PROC_NULL)) return;
  const tw = twinOf(comm);
  const round: Waitable[] = [];
  // neighbour i = 2d + up; a message to it travels in direction `up`, one from it in the other.
  neighbors.forEach((peer, i) => {
    const d = i >> 1;
    const up = i & 1;
    if (peer !== PROC_NULL) irecv(tw, rbuf.subarray(i * n, (i + 1) * n), peer, Tag.neighbor + 2 * d + (1 - up), round);
  });
  neighbors.forEach((peer, i) => {
    if (peer !== PROC_NULL) isend(tw, outgoing(i), peer, Tag.neighbor + i, round);
  });
  yield round;
}
