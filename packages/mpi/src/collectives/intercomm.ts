import { PROC_NULL, ROOT } from '../constants.js';
import { InvalidArgument, InvalidBuffer } from '../errors.js';
import { kCollective } from '../symbols.js';
import { bcast } from './bcast.js';
import { barrier } from './barrier.js';
import { checkOp } from './combine.js';
import { gather } from './gather.js';
import type { ReduceOp } from './ops.js';
import { reduce } from './reduce.js';
import { scatter } from './scatter.js';
import { countAlgorithm } from './stats.js';
import { Tag, checkCount, checkSameType, exchange, recv, send, withTemp } from './transport.js';
import type { Buffer, CollectiveComm, PointToPoint } from './types.js';

/**
 * Collectives on an intercommunicator (MPI-3.1 §5.2.2), built as MPICH builds them: the work
 * inside a group runs as the intracommunicator collective on the group's local communicator,
 * and the groups meet through their local rank 0s (the leaders) on the intercommunicator's
 * twin, whose ranks name the remote group.
 *
 * Rooted calls: the root passes ROOT, the rest of its group PROC_NULL, and every rank of the
 * other group the root's rank in the root's group. Data flows from the root to the other
 * group (bcast, scatter) or from the other group to the root (reduce, gather); the ranks that
 * pass PROC_NULL take no part. Unrooted calls move each group's data to the other group:
 * allreduce leaves in every rank of group A the reduction of group B's buffers, and so on.
 */

/** What an intercommunicator gives its collectives. */
export interface InterCollectiveComm {
  readonly rank: number;
  readonly size: number;
  readonly remoteSize: number;
  /** point-to-point to the remote group, on the collective context */
  readonly [kCollective]: PointToPoint;
  /** the local group as an intracommunicator of its own context */
  readonly localComm: CollectiveComm;
}

type Role = 'root' | 'idle' | 'receiver';

function roleOf(name: string, ic: InterCollectiveComm, root: number): Role {
  if (root === ROOT) return 'root';
  if (root === PROC_NULL) return 'idle';
  if (!Number.isInteger(root) || root < 0 || root >= ic.remoteSize) {
    throw new InvalidArgument('root', `${name} on an intercommunicator: root ${root} is not ROOT, PROC_NULL or a rank of the remote group (0..${ic.remoteSize - 1}); the root passes ROOT, the rest of its group PROC_NULL, the other group the root's rank`);
  }
  return 'receiver';
}

function needs(name: string, what: string, buf: Buffer | null | undefined): Buffer {
  if (!buf) throw new InvalidBuffer(`${name} on an intercommunicator: this rank needs ${what}; pass one`);
  return buf;
}

/** No rank leaves before every rank of both groups has entered: local barrier, the leaders' exchange, a local release. */
export function icBarrier(ic: InterCollectiveComm): void {
  countAlgorithm('barrier.intercomm');
  const local = ic.localComm;
  barrier(local);
  withTemp(local, Uint8Array, 2, (t) => {
    if (ic.rank === 0) exchange(ic[kCollective], t.subarray(0, 1), 0, t.subarray(1, 2), 0, Tag.barrier);
    bcast(local, t.subarray(1, 2), 0);
  });
}

/** The root sends to the other group's leader, which broadcasts in its group. */
export function icBcast(ic: InterCollectiveComm, buf: Buffer | null | undefined, root: number): void {
  const role = roleOf('bcast', ic, root);
  countAlgorithm('bcast.intercomm');
  if (role === 'idle') return;
  const b = needs('bcast', 'a buffer', buf);
  if (role === 'root') return send(ic[kCollective], b, 0, Tag.bcast);
  if (ic.rank === 0) recv(ic[kCollective], b, root, Tag.bcast);
  bcast(ic.localComm, b, 0);
}

/** The other group reduces to its leader, which sends the result to the root. */
export function icReduce(ic: InterCollectiveComm, sbuf: Buffer | null | undefined, rbuf: Buffer | null | undefined, op: ReduceOp, root: number): void {
  const role = roleOf('reduce', ic, root);
  countAlgorithm('reduce.intercomm');
  if (role === 'idle') return;
  if (role === 'root') return void recv(ic[kCollective], needs('reduce', 'a receive buffer (the root)', rbuf), 0, Tag.reduce);
  const s = needs('reduce', 'a send buffer', sbuf);
  checkOp('reduce', op, s);
  withTemp(ic.localComm, s.type, ic.rank === 0 ? s.count : 0, (partial) => {
    reduce(ic.localComm, s, ic.rank === 0 ? partial : null, op, 0);
    if (ic.rank === 0) send(ic[kCollective], partial, root, Tag.reduce);
  });
}

/** Each group reduces to its leader; the leaders swap results; each leader broadcasts the other group's result in its group. */
export function icAllreduce(ic: InterCollectiveComm, sbuf: Buffer, rbuf: Buffer, op: ReduceOp): void {
  countAlgorithm('allreduce.intercomm');
  checkOp('allreduce', op, sbuf);
  checkCount('allreduce', 'the receive buffer', rbuf, sbuf.count);
  checkSameType('allreduce', sbuf, rbuf);
  withTemp(ic.localComm, sbuf.type, ic.rank === 0 ? sbuf.count : 0, (partial) => {
    reduce(ic.localComm, sbuf, ic.rank === 0 ? partial : null, op, 0);
    if (ic.rank === 0) exchange(ic[kCollective], partial, 0, rbuf, 0, Tag.allreduce);
  });
  bcast(ic.localComm, rbuf, 0);
}

/** The other group gathers to its leader, which sends the blocks to the root (rbuf: remoteSize blocks). */
export function icGather(ic: InterCollectiveComm, sbuf: Buffer | null | undefined, rbuf: Buffer | null | undefined, root: number): void {
  const role = roleOf('gather', ic, root);
  countAlgorithm('gather.intercomm');
  if (role === 'idle') return;
  if (role === 'root') {
    const r = needs('gather', 'a receive buffer (the root)', rbuf);
    checkBlocks('gather', 'the receive buffer', r, ic.remoteSize);
    return void recv(ic[kCollective], r, 0, Tag.gather);
  }
  const s = needs('gather', 'a send buffer', sbuf);
  withTemp(ic.localComm, s.type, ic.rank === 0 ? ic.size * s.count : 0, (blocks) => {
    gather(ic.localComm, s, ic.rank === 0 ? blocks : null, 0);
    if (ic.rank === 0) send(ic[kCollective], blocks, root, Tag.gather);
  });
}

/** The root sends every block to the other group's leader, which scatters them in its group (sbuf: remoteSize blocks). */
export function icScatter(ic: InterCollectiveComm, sbuf: Buffer | null | undefined, rbuf: Buffer | null | undefined, root: number): void {
  const role = roleOf('scatter', ic, root);
  countAlgorithm('scatter.intercomm');
  if (role === 'idle') return;
  if (role === 'root') {
    const s = needs('scatter', 'a send buffer (the root)', sbuf);
    checkBlocks('scatter', 'the send buffer', s, ic.remoteSize);
    return send(ic[kCollective], s, 0, Tag.scatter);
  }
  const r = needs('scatter', 'a receive buffer', rbuf);
  withTemp(ic.localComm, r.type, ic.rank === 0 ? ic.size * r.count : 0, (blocks) => {
    if (ic.rank === 0) recv(ic[kCollective], blocks, root, Tag.scatter);
    scatter(ic.localComm, ic.rank === 0 ? blocks : null, r, 0);
  });
}

/** Each group gathers to its leader; the leaders swap; each leader broadcasts the other group's blocks (rbuf: remoteSize blocks). */
export function icAllgather(ic: InterCollectiveComm, sbuf: Buffer, rbuf: Buffer): void {
  countAlgorithm('allgather.intercomm');
  checkSameType('allgather', sbuf, rbuf);
  checkCount('allgather', 'the receive buffer', rbuf, ic.remoteSize * sbuf.count);
  withTemp(ic.localComm, sbuf.type, ic.rank === 0 ? ic.size * sbuf.count : 0, (blocks) => {
    gather(ic.localComm, sbuf, ic.rank === 0 ? blocks : null, 0);
    if (ic.rank === 0) exchange(ic[kCollective], blocks, 0, rbuf, 0, Tag.allgather);
  });
  bcast(ic.localComm, rbuf, 0);
}

/**
 * Pairwise exchange over max(local, remote) steps, as MPICH: in step i rank r sends its block for
 * remote rank (r + i) mod m and receives from remote rank (r − i) mod m, skipping ranks that do
 * not exist on the smaller side. Both buffers hold remoteSize blocks.
 */
export function icAlltoall(ic: InterCollectiveComm, sbuf: Buffer, rbuf: Buffer): void {
  countAlgorithm('alltoall.intercomm');
  checkSameType('alltoall', sbuf, rbuf);
  const k = checkBlocks('alltoall', 'the send buffer', sbuf, ic.remoteSize);
  checkCount('alltoall', 'the receive buffer', rbuf, sbuf.count);
  const m = Math.max(ic.size, ic.remoteSize);
  const empty = sbuf.subarray(0, 0);
  const block = (b: Buffer, r: number) => (r < ic.remoteSize ? b.subarray(r * k, (r + 1) * k) : empty);
  for (let i = 0; i < m; i++) {
    const dst = (ic.rank + i) % m;
    const src = (ic.rank - i + m) % m;
    exchange(ic[kCollective], block(sbuf, dst), dst, block(rbuf, src), src, Tag.alltoall);
  }
}

function checkBlocks(name: string, what: string, buf: Buffer, blocks: number): number {
  if (blocks === 0 || buf.count % blocks !== 0) {
    throw new InvalidBuffer(`${name} on an intercommunicator: ${what} holds ${buf.count} elements, not a multiple of the remote group's ${blocks} ranks; give it one block per remote rank`);
  }
  return buf.count / blocks;
}
