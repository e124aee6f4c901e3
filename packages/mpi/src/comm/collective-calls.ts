import * as coll from '../collectives/index.js';
import type { Counts, ReduceFn, ReduceOp } from '../collectives/index.js';
import type { Request } from '../request.js';
import type { TypedBuffer } from '../typed-buffer.js';
import type { Comm } from '../comm.js';
import { CommPointToPoint } from './point-to-point.js';

/**
 * Collective calls: each delegates to src/collectives/, which runs it on the communicator's
 * collective twin (`comm[kCollective]`). `this: Comm` because a collective may build communicators.
 */
export abstract class CommCollectives extends CommPointToPoint {
  // ───────────────────────── collectives (src/collectives/) ─────────────────────────

  barrier(this: Comm): void {
    coll.barrier(this);
  }

  bcast(this: Comm, buf: TypedBuffer, root = 0): void {
    coll.bcast(this, buf, root);
  }

  /** rbuf matters at the root only (pass null elsewhere). */
  reduce(this: Comm, sbuf: TypedBuffer, rbuf: TypedBuffer | null | undefined, op: ReduceOp, root = 0): void {
    coll.reduce(this, sbuf, rbuf, op, root);
  }

  allreduce(this: Comm, sbuf: TypedBuffer, rbuf: TypedBuffer, op: ReduceOp): void {
    coll.allreduce(this, sbuf, rbuf, op);
  }

  /** rbuf (size × sbuf.count elements) matters at the root only. */
  gather(this: Comm, sbuf: TypedBuffer, rbuf: TypedBuffer | null | undefined, root = 0): void {
    coll.gather(this, sbuf, rbuf, root);
  }

  /** sbuf (size × rbuf.count elements) matters at the root only. */
  scatter(this: Comm, sbuf: TypedBuffer | null | undefined, rbuf: TypedBuffer, root = 0): void {
    coll.scatter(this, sbuf, rbuf, root);
  }

  allgather(this: Comm, sbuf: TypedBuffer, rbuf: TypedBuffer): void {
    coll.allgather(this, sbuf, rbuf);
  }

  alltoall(this: Comm, sbuf: TypedBuffer, rbuf: TypedBuffer): void {
    coll.alltoall(this, sbuf, rbuf);
  }

  // v-collectives, reduce-scatter, scans: counts and displacements in elements (collectives/vector.ts, reduce-scatter.ts, scan.ts)
  /** rbuf, counts and displs (null: packed) matter at the root only. */
  gatherv(this: Comm, sbuf: TypedBuffer, rbuf: TypedBuffer | null | undefined, counts: Counts, displs: Counts = null, root = 0): void {
    coll.gatherv(this, sbuf, rbuf, counts, displs, root);
  }
  /** sbuf, counts and displs (null: packed) matter at the root only. */
  scatterv(this: Comm, sbuf: TypedBuffer | null | undefined, counts: Counts, displs: Counts, rbuf: TypedBuffer, root = 0): void {
    coll.scatterv(this, sbuf, counts, displs, rbuf, root);
  }
  allgatherv(this: Comm, sbuf: TypedBuffer, rbuf: TypedBuffer, counts: readonly number[], displs: Counts = null): void {
    coll.allgatherv(this, sbuf, rbuf, counts, displs);
  }
  alltoallv(this: Comm, sbuf: TypedBuffer, scounts: readonly number[], sdispls: Counts, rbuf: TypedBuffer, rcounts: readonly number[], rdispls: Counts = null): void {
    coll.alltoallv(this, sbuf, scounts, sdispls, rbuf, rcounts, rdispls);
  }
  reduceScatter(this: Comm, sbuf: TypedBuffer, rbuf: TypedBuffer, counts: readonly number[], op: ReduceOp): void {
    coll.reduceScatter(this, sbuf, rbuf, counts, op);
  }
  reduceScatterBlock(this: Comm, sbuf: TypedBuffer, rbuf: TypedBuffer, op: ReduceOp): void {
    coll.reduceScatterBlock(this, sbuf, rbuf, op);
  }
  scan(this: Comm, sbuf: TypedBuffer, rbuf: TypedBuffer, op: ReduceOp): void {
    coll.scan(this, sbuf, rbuf, op);
  }
  /** rank 0's rbuf is left untouched. */
  exscan(this: Comm, sbuf: TypedBuffer, rbuf: TypedBuffer, op: ReduceOp): void {
    coll.exscan(this, sbuf, rbuf, op);
  }
  scanObject<V>(this: Comm, value: V, op: ReduceFn<V> | ReduceOp): V {
    return coll.scanObject(this, value, op);
  }
  /** undefined on rank 0. */
  exscanObject<V>(this: Comm, value: V, op: ReduceFn<V> | ReduceOp): V | undefined {
    return coll.exscanObject(this, value, op);
  }

  // nonblocking collectives: the blocking forms' schedules, advanced as the program waits or tests (collectives/nonblocking.ts)
  ibarrier(this: Comm): Request {
    return coll.ibarrier(this);
  }
  ibcast(this: Comm, buf: TypedBuffer, root = 0): Request {
    return coll.ibcast(this, buf, root);
  }
  ireduce(this: Comm, sbuf: TypedBuffer, rbuf: TypedBuffer | null | undefined, op: ReduceOp, root = 0): Request {
    return coll.ireduce(this, sbuf, rbuf, op, root);
  }
  iallreduce(this: Comm, sbuf: TypedBuffer, rbuf: TypedBuffer, op: ReduceOp): Request {
    return coll.iallreduce(this, sbuf, rbuf, op);
  }
  igather(this: Comm, sbuf: TypedBuffer, rbuf: TypedBuffer | null | undefined, root = 0): Request {
    return coll.igather(this, sbuf, rbuf, root);
  }
  iallgather(this: Comm, sbuf: TypedBuffer, rbuf: TypedBuffer): Request {
    return coll.iallgather(this, sbuf, rbuf);
  }
  ialltoall(this: Comm, sbuf: TypedBuffer, rbuf: TypedBuffer): Request {
    return coll.ialltoall(this, sbuf, rbuf);
  }

  bcastObject<V>(this: Comm, value: V, root = 0): V {
    return coll.bcastObject(this, value, root);
  }

  gatherObject<V>(this: Comm, value: V, root = 0): V[] | undefined {
    return coll.gatherObject(this, value, root);
  }

  scatterObject<V>(this: Comm, values: readonly V[] | null | undefined, root = 0): V {
    return coll.scatterObject(this, values, root);
  }

  allgatherObject<V>(this: Comm, value: V): V[] {
    return coll.allgatherObject(this, value);
  }

  alltoallObject<V>(this: Comm, values: readonly V[]): V[] {
    return coll.alltoallObject(this, values);
  }

  reduceObject<V>(this: Comm, value: V, op: ReduceFn<V> | ReduceOp, root = 0): V | undefined {
    return coll.reduceObject(this, value, op, root);
  }

  allreduceObject<V>(this: Comm, value: V, op: ReduceFn<V> | ReduceOp): V {
    return coll.allreduceObject(this, value, op);
  }
}
