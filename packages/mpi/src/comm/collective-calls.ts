import * as coll from '../collectives/index.js';
import type { Counts, ReduceFn, ReduceOp } from '../collectives/index.js';
import type { Request } from '../request.js';
import type { BufferSpec } from '../datatype/buffer-spec.js';
import type { TypedBuffer } from '../typed-buffer.js';
import { IN_PLACE, type InPlace } from '../constants.js';
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

  bcast(this: Comm, buf: BufferSpec, root = 0): void {
    const a = this.staging('bcast');
    a.run(() => coll.bcast(this, a.inout(buf), root));
  }

  /** rbuf matters at the root only (pass null elsewhere). */
  reduce(this: Comm, sbuf: BufferSpec | InPlace, rbuf: BufferSpec | null | undefined, op: ReduceOp, root = 0): void {
    const a = this.staging('reduce');
    a.run(() => coll.reduce(this, a.in(sbuf), a.out(rbuf), op, root));
  }

  allreduce(this: Comm, sbuf: BufferSpec | InPlace, rbuf: BufferSpec, op: ReduceOp): void {
    const a = this.staging('allreduce');
    a.run(() => coll.allreduce(this, a.in(sbuf), a.out(rbuf), op));
  }

  /** rbuf (size × sbuf.count elements) matters at the root only. */
  gather(this: Comm, sbuf: BufferSpec | InPlace, rbuf: BufferSpec | null | undefined, root = 0): void {
    const a = this.staging('gather');
    a.run(() => coll.gather(this, a.in(sbuf), a.out(rbuf), root));
  }

  /** sbuf (size × rbuf.count elements) matters at the root only. */
  scatter(this: Comm, sbuf: BufferSpec | null | undefined, rbuf: BufferSpec | InPlace, root = 0): void {
    const a = this.staging('scatter');
    a.run(() => coll.scatter(this, a.in(sbuf), a.out(rbuf), root));
  }

  allgather(this: Comm, sbuf: BufferSpec | InPlace, rbuf: BufferSpec): void {
    const a = this.staging('allgather');
    a.run(() => coll.allgather(this, a.in(sbuf), a.out(rbuf)));
  }

  alltoall(this: Comm, sbuf: BufferSpec | InPlace, rbuf: BufferSpec): void {
    const a = this.staging('alltoall');
    a.run(() => coll.alltoall(this, a.in(sbuf), a.out(rbuf)));
  }

  // v-collectives, reduce-scatter, scans: counts and displacements in elements (collectives/vector.ts, reduce-scatter.ts, scan.ts)
  /** rbuf, counts and displs (null: packed) matter at the root only. */
  gatherv(this: Comm, sbuf: BufferSpec | InPlace, rbuf: BufferSpec | null | undefined, counts: Counts, displs: Counts = null, root = 0): void {
    const a = this.staging('gatherv');
    a.run(() => coll.gatherv(this, a.in(sbuf), a.out(rbuf), counts, displs, root));
  }
  /** sbuf, counts and displs (null: packed) matter at the root only. */
  scatterv(this: Comm, sbuf: BufferSpec | null | undefined, counts: Counts, displs: Counts, rbuf: BufferSpec | InPlace, root = 0): void {
    const a = this.staging('scatterv');
    a.run(() => coll.scatterv(this, a.in(sbuf), counts, displs, a.out(rbuf), root));
  }
  allgatherv(this: Comm, sbuf: BufferSpec | InPlace, rbuf: BufferSpec, counts: readonly number[], displs: Counts = null): void {
    const a = this.staging('allgatherv');
    a.run(() => coll.allgatherv(this, a.in(sbuf), a.out(rbuf), counts, displs));
  }
  alltoallv(this: Comm, sbuf: BufferSpec | InPlace, scounts: readonly number[], sdispls: Counts, rbuf: BufferSpec, rcounts: readonly number[], rdispls: Counts = null): void {
    const a = this.staging('alltoallv');
    a.run(() => coll.alltoallv(this, a.in(sbuf), scounts, sdispls, a.out(rbuf), rcounts, rdispls));
  }
  reduceScatter(this: Comm, sbuf: BufferSpec | InPlace, rbuf: BufferSpec, counts: readonly number[], op: ReduceOp): void {
    const a = this.staging('reduceScatter');
    a.run(() => coll.reduceScatter(this, a.in(sbuf), a.out(rbuf), counts, op));
  }
  reduceScatterBlock(this: Comm, sbuf: BufferSpec | InPlace, rbuf: BufferSpec, op: ReduceOp): void {
    const a = this.staging('reduceScatterBlock');
    a.run(() => coll.reduceScatterBlock(this, a.in(sbuf), a.out(rbuf), op));
  }
  scan(this: Comm, sbuf: BufferSpec | InPlace, rbuf: BufferSpec, op: ReduceOp): void {
    const a = this.staging('scan');
    a.run(() => coll.scan(this, a.in(sbuf), a.out(rbuf), op));
  }
  /** rank 0's rbuf is left untouched. */
  exscan(this: Comm, sbuf: BufferSpec | InPlace, rbuf: BufferSpec, op: ReduceOp): void {
    const a = this.staging('exscan');
    a.run(() => coll.exscan(this, a.in(sbuf), a.out(rbuf), op));
  }
  scanObject<V>(this: Comm, value: V, op: ReduceFn<V> | ReduceOp): V {
    return coll.scanObject(this, value, op);
  }
  /** undefined on rank 0. */
  exscanObject<V>(this: Comm, value: V, op: ReduceFn<V> | ReduceOp): V | undefined {
    return coll.exscanObject(this, value, op);
  }

  /** MPI_Reduce_local: inoutbuf = inbuf op inoutbuf, element-wise, on this rank only (charged as a local reduction). */
  reduceLocal(this: Comm, inbuf: BufferSpec, inoutbuf: BufferSpec, op: ReduceOp): void {
    this.checkBuffer(inbuf, 'reduceLocal');
    this.checkBuffer(inoutbuf, 'reduceLocal');
    const a = this.staging('reduceLocal');
    a.run(() => coll.reduceLocal(this, a.in(inbuf), a.inout(inoutbuf), op));
  }

  // nonblocking collectives: the blocking forms' schedules, advanced as the program waits or tests (collectives/nonblocking.ts)
  ibarrier(this: Comm): Request {
    return coll.ibarrier(this);
  }
  ibcast(this: Comm, buf: BufferSpec, root = 0): Request {
    const a = this.staging('ibcast');
    return a.after(coll.ibcast(this, a.inout(buf), root));
  }
  ireduce(this: Comm, sbuf: BufferSpec | InPlace, rbuf: BufferSpec | null | undefined, op: ReduceOp, root = 0): Request {
    const a = this.staging('ireduce');
    return a.after(coll.ireduce(this, a.in(sbuf), a.out(rbuf), op, root));
  }
  iallreduce(this: Comm, sbuf: BufferSpec | InPlace, rbuf: BufferSpec, op: ReduceOp): Request {
    const a = this.staging('iallreduce');
    return a.after(coll.iallreduce(this, a.in(sbuf), a.out(rbuf), op));
  }
  igather(this: Comm, sbuf: BufferSpec | InPlace, rbuf: BufferSpec | null | undefined, root = 0): Request {
    const a = this.staging('igather');
    return a.after(coll.igather(this, a.in(sbuf), a.out(rbuf), root));
  }
  iallgather(this: Comm, sbuf: BufferSpec | InPlace, rbuf: BufferSpec): Request {
    const a = this.staging('iallgather');
    return a.after(coll.iallgather(this, a.in(sbuf), a.out(rbuf)));
  }
  ialltoall(this: Comm, sbuf: BufferSpec | InPlace, rbuf: BufferSpec): Request {
    const a = this.staging('ialltoall');
    return a.after(coll.ialltoall(this, a.in(sbuf), a.out(rbuf)));
  }

  // persistent collectives (MPI-4 *_init; collectives/persistent.ts): start(), wait(), start() ..., free().
  // TypedBuffers only; their registrations are held from init to free.
  barrierInit(this: Comm): Request { return coll.barrierInit(this); }
  bcastInit(this: Comm, buf: TypedBuffer, root = 0): Request { return coll.bcastInit(this, this.typed(buf, 'bcastInit'), root); }
  reduceInit(this: Comm, sbuf: TypedBuffer | InPlace, rbuf: TypedBuffer | null | undefined, op: ReduceOp, root = 0): Request {
    return coll.reduceInit(this, this.typed(sbuf, 'reduceInit'), this.typed(rbuf, 'reduceInit'), op, root);
  }
  allreduceInit(this: Comm, sbuf: TypedBuffer | InPlace, rbuf: TypedBuffer, op: ReduceOp): Request {
    return coll.allreduceInit(this, this.typed(sbuf, 'allreduceInit'), this.typed(rbuf, 'allreduceInit'), op);
  }
  gatherInit(this: Comm, sbuf: TypedBuffer | InPlace, rbuf: TypedBuffer | null | undefined, root = 0): Request {
    return coll.gatherInit(this, this.typed(sbuf, 'gatherInit'), this.typed(rbuf, 'gatherInit'), root);
  }
  scatterInit(this: Comm, sbuf: TypedBuffer | null | undefined, rbuf: TypedBuffer | InPlace, root = 0): Request {
    return coll.scatterInit(this, this.typed(sbuf, 'scatterInit'), this.typed(rbuf, 'scatterInit'), root);
  }
  allgatherInit(this: Comm, sbuf: TypedBuffer | InPlace, rbuf: TypedBuffer): Request {
    return coll.allgatherInit(this, this.typed(sbuf, 'allgatherInit'), this.typed(rbuf, 'allgatherInit'));
  }
  alltoallInit(this: Comm, sbuf: TypedBuffer | InPlace, rbuf: TypedBuffer): Request {
    return coll.alltoallInit(this, this.typed(sbuf, 'alltoallInit'), this.typed(rbuf, 'alltoallInit'));
  }
  gathervInit(this: Comm, sbuf: TypedBuffer | InPlace, rbuf: TypedBuffer | null | undefined, counts: Counts, displs: Counts = null, root = 0): Request {
    return coll.gathervInit(this, this.typed(sbuf, 'gathervInit'), this.typed(rbuf, 'gathervInit'), counts, displs, root);
  }
  scattervInit(this: Comm, sbuf: TypedBuffer | null | undefined, counts: Counts, displs: Counts, rbuf: TypedBuffer | InPlace, root = 0): Request {
    return coll.scattervInit(this, this.typed(sbuf, 'scattervInit'), counts, displs, this.typed(rbuf, 'scattervInit'), root);
  }
  allgathervInit(this: Comm, sbuf: TypedBuffer | InPlace, rbuf: TypedBuffer, counts: readonly number[], displs: Counts = null): Request {
    return coll.allgathervInit(this, this.typed(sbuf, 'allgathervInit'), this.typed(rbuf, 'allgathervInit'), counts, displs);
  }
  alltoallvInit(this: Comm, sbuf: TypedBuffer | InPlace, scounts: readonly number[], sdispls: Counts, rbuf: TypedBuffer, rcounts: readonly number[], rdispls: Counts = null): Request {
    return coll.alltoallvInit(this, this.typed(sbuf, 'alltoallvInit'), scounts, sdispls, this.typed(rbuf, 'alltoallvInit'), rcounts, rdispls);
  }
  reduceScatterInit(this: Comm, sbuf: TypedBuffer | InPlace, rbuf: TypedBuffer, counts: readonly number[], op: ReduceOp): Request {
    return coll.reduceScatterInit(this, this.typed(sbuf, 'reduceScatterInit'), this.typed(rbuf, 'reduceScatterInit'), counts, op);
  }
  reduceScatterBlockInit(this: Comm, sbuf: TypedBuffer | InPlace, rbuf: TypedBuffer, op: ReduceOp): Request {
    return coll.reduceScatterBlockInit(this, this.typed(sbuf, 'reduceScatterBlockInit'), this.typed(rbuf, 'reduceScatterBlockInit'), op);
  }
  scanInit(this: Comm, sbuf: TypedBuffer | InPlace, rbuf: TypedBuffer, op: ReduceOp): Request {
    return coll.scanInit(this, this.typed(sbuf, 'scanInit'), this.typed(rbuf, 'scanInit'), op);
  }
  exscanInit(this: Comm, sbuf: TypedBuffer | InPlace, rbuf: TypedBuffer, op: ReduceOp): Request {
    return coll.exscanInit(this, this.typed(sbuf, 'exscanInit'), this.typed(rbuf, 'exscanInit'), op);
  }

  private typed<B extends TypedBuffer | InPlace | null | undefined>(buf: B, op: string): B {
    return (buf === null || buf === undefined || buf === IN_PLACE ? buf : this.checkTyped(buf as TypedBuffer, op)) as B;
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
