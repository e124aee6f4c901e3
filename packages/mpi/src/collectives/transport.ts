import { waitAllOwnError } from '../request.js';
import { kCollective } from '../symbols.js';
import { InvalidArgument, InvalidBuffer, InvalidType, MpiError } from '../errors.js';
import { countLocalCopy, countMessage, countObject } from './stats.js';
import { temporary } from './scratch.js';
import type { Buffer, CollectiveComm, LocalWork, PointToPoint, TypedArray, TypedArrayCtor, Waitable } from './types.js';

/**
 * One tag per collective on the twin's context. Every rank calls collectives on a
 * communicator in the same order and each algorithm pairs its sends and receives in the
 * same order on both sides, so non-overtaking alone keeps steps apart; distinct tags only
 * make a mismatched call (rank A in bcast, rank B in reduce) fail loudly instead of
 * silently exchanging the wrong data.
 */
export const Tag = {
  barrier: 1,
  bcast: 2,
  reduce: 3,
  allreduce: 4,
  gather: 5,
  scatter: 6,
  allgather: 7,
  alltoall: 8,
  bcastObject: 11,
  reduceObject: 12,
  gatherObject: 13,
  scatterObject: 14,
  alltoallObject: 15,
  gatherv: 16,
  scatterv: 17,
  allgatherv: 18,
  alltoallv: 19,
  reduceScatter: 20,
  scan: 21,
  exscan: 22,
  scanObject: 23,
  neighbor: 24, // + 2 × dimension + direction (neighbor.ts)
  nonblocking: 0x10_0000, // + the communicator's count of nonblocking collectives (nonblocking.ts)
} as const;

export function twinOf(comm: CollectiveComm): PointToPoint {
  const tw = comm[kCollective];
  if (!tw) {
    throw new MpiError('MPI_ERR_COMM', 'this communicator has no collective twin; call collectives on a Comm from init(), dup() or split()');
  }
  return tw;
}

export function checkRoot(name: string, comm: CollectiveComm, root: number): void {
  if (!Number.isInteger(root) || root < 0 || root >= comm.size) {
    throw new InvalidArgument('root', `${name}: root ${root} is not a rank of this communicator (0..${comm.size - 1}); pass the same valid root on every rank`);
  }
}

export function checkCount(name: string, what: string, buf: Buffer, expected: number): void {
  if (buf.count !== expected) {
    throw new InvalidBuffer(`${name}: ${what} holds ${buf.count} elements but ${expected} are needed; size it as the collective requires`);
  }
}

export function checkSameType(name: string, a: Buffer, b: Buffer): void {
  if (a.type !== b.type) {
    throw new InvalidType(`${name}: send buffer is ${a.type.name} but receive buffer is ${b.type.name}; use one element type`);
  }
}

// Empty blocks are never put on the wire: both sides compute every block size from the
// same (count, size, rank) arithmetic, so they agree on which messages exist.
export function send(tw: PointToPoint, buf: Buffer, dest: number, tag: number): void {
  if (buf.count === 0) return;
  countMessage(buf.byteLength);
  tw.send(buf, dest, tag);
}

export function recv(tw: PointToPoint, buf: Buffer, source: number, tag: number): void {
  if (buf.count === 0) return;
  tw.recv(buf, source, tag);
}

/** Send `sbuf` to `dest` while receiving `rbuf` from `source`, deadlock-free for any sizes. */
export function exchange(tw: PointToPoint, sbuf: Buffer, dest: number, rbuf: Buffer, source: number, tag: number): void {
  const sending = sbuf.count > 0;
  const receiving = rbuf.count > 0;
  if (sending && receiving) {
    countMessage(sbuf.byteLength);
    tw.sendrecv(sbuf, dest, tag, rbuf, source, tag);
  } else if (sending) {
    send(tw, sbuf, dest, tag);
  } else if (receiving) {
    recv(tw, rbuf, source, tag);
  }
}

export function isend(tw: PointToPoint, buf: Buffer, dest: number, tag: number, into: Waitable[]): void {
  if (buf.count === 0) return;
  countMessage(buf.byteLength);
  into.push(tw.isend(buf, dest, tag));
}

export function irecv(tw: PointToPoint, buf: Buffer, source: number, tag: number, into: Waitable[]): void {
  if (buf.count === 0) return;
  into.push(tw.irecv(buf, source, tag));
}

export function waitAll(reqs: Waitable[]): void {
  waitAllOwnError(reqs);
}

export function sendObject(tw: PointToPoint, value: unknown, dest: number, tag: number): void {
  countObject();
  tw.sendObject(value, dest, tag);
}

export function isendObject(tw: PointToPoint, value: unknown, dest: number, tag: number): Waitable {
  countObject();
  return tw.isendObject(value, dest, tag);
}

/** Run `body` with a temporary buffer (scratch.ts's temporary), freed afterwards. */
export function withTemp<T extends TypedArray, R>(
  comm: CollectiveComm,
  type: TypedArrayCtor<T>,
  count: number,
  body: (tmp: Buffer<T>) => R,
): R {
  const tmp = temporary(comm, type, count);
  try {
    return body(tmp);
  } finally {
    tmp.free();
  }
}

/**
 * Local copy between two buffers of one type (through the page table, like any access),
 * charged to the rank's clock as a memcpy of its bytes.
 */
export function copy(work: LocalWork, dst: Buffer, src: Buffer): void {
  // nothing to move when both are the same memory (IN_PLACE's own block)
  if (src.count === 0 || (src.addr === dst.addr && src.byteLength === dst.byteLength)) return;
  dst.set(src.toArray());
  countLocalCopy(src.byteLength, work.chargeLocal(src.byteLength));
}

/** Balanced split of `items` into `parts` blocks: block i starts at start(i), the first items % parts blocks one larger. */
export function blockStart(items: number, parts: number, i: number): number {
  const base = Math.floor(items / parts);
  return i * base + Math.min(i, items % parts);
}
