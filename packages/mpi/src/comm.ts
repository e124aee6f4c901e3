import type { AddressSpace, Allocator } from '@tsmpi/vm';
import { ANY_SOURCE, ANY_TAG, PROC_NULL, UNDEFINED } from './constants.js';
import { InvalidArgument, InvalidBuffer, InvalidRank, InvalidTag, InvalidType, TAG_UB } from './errors.js';
import { packObject } from './p2p/object-codec.js';
import type { Arrival, HeldRegistration, Route, SendMode, Target } from './p2p/operations.js';
import { PersistentRequest } from './persistent.js';
import type { RankRuntimeFace } from './rank/runtime-face.js';
import { Message } from './message.js';
import { Win } from './rma/window.js';
import { Request } from './request.js';
import type { RankStats } from './stats.js';
import type { Status } from './status.js';
import { kCollective } from './symbols.js';
import * as coll from './collectives/index.js';
import type { Counts, ReduceFn, ReduceOp } from './collectives/index.js';
import type { CartComm } from './topology/cart.js';
import { topologyHooks } from './topology/hooks.js';
import { TypedBuffer, describe, isTypedArrayCtor, type TypedArray, type TypedArrayCtor } from './typed-buffer.js';

export { Message };

/** Tag the runtime uses on a communicator's collective twin to agree on context ids (dup/split). */
const CONTEXT_TAG = TAG_UB;

/**
 * A communicator: a group of ranks and a context. Point-to-point methods are here; collectives
 * delegate to src/collectives/ and run on the communicator's collective twin (`comm[kCollective]`),
 * the same group under the next context id, so their traffic never matches a user's message.
 */
export class Comm {
  /** This rank's rank in the communicator. */
  readonly rank: number;
  readonly size: number;
  /** @internal */ readonly runtime: RankRuntimeFace;
  /** @internal world rank of each rank of this communicator */ readonly group: readonly number[];
  /** @internal even for user communicators; the twin has context + 1 */ readonly context: number;
  /** @internal */ readonly route: Route;
  private twin: Comm | undefined;

  /** @internal created by init(), dup() and split() */
  constructor(runtime: RankRuntimeFace, group: readonly number[], context: number, twinOf?: Comm) {
    this.runtime = runtime;
    this.group = group;
    this.context = context;
    this.size = group.length;
    this.rank = group.indexOf(runtime.worldRank);
    const g = group;
    this.route = { context, rank: this.rank, size: this.size, world: (r: number) => g[r]! };
    if (twinOf) this.twin = twinOf;
  }

  /** The collective twin: same group, context + 1. Collectives send and receive on it. */
  get [kCollective](): Comm {
    this.twin ??= new Comm(this.runtime, this.group, this.context + 1, this);
    return this.twin;
  }

  // ───────────────────────── memory ─────────────────────────

  /** `count` elements of `type` from the rank's heap (malloc). Free them with buf.free(). */
  alloc<T extends TypedArray>(type: TypedArrayCtor<T>, count: number): TypedBuffer<T> {
    if (!isTypedArrayCtor(type)) throw new InvalidType(`alloc(): expected a TypedArray constructor such as Float64Array, got ${describe(type)}`);
    if (!Number.isSafeInteger(count) || count < 0) throw new InvalidArgument('count', `expected an integer >= 0, got ${String(count)}`);
    const addr = this.runtime.heap.malloc(Math.max(1, count * type.BYTES_PER_ELEMENT));
    return new TypedBuffer(this.runtime.memory, type, addr, count, true);
  }

  /** A typed buffer over memory the program manages itself (mmap, malloc); never freed by the buffer. */
  wrap<T extends TypedArray>(type: TypedArrayCtor<T>, addr: number, count: number): TypedBuffer<T> {
    if (!isTypedArrayCtor(type)) throw new InvalidType(`wrap(): expected a TypedArray constructor such as Float64Array, got ${describe(type)}`);
    return new TypedBuffer(this.runtime.memory, type, addr, count, false);
  }

  /** The rank's address space (@tsmpi/vm AddressSpace): mmap, munmap, sbrk, migrate... to move memory under the cache. */
  get space(): AddressSpace {
    return this.runtime.space;
  }

  /** The rank's allocator (@tsmpi/vm Allocator): malloc, free, realloc. */
  get heap(): Allocator {
    return this.runtime.heap;
  }

  // ───────────────────────── one-sided (rma/) ─────────────────────────

  /** Collective: exposes `buf` to one-sided access by every rank of this communicator (MPI_Win_create). */
  winCreate<T extends TypedArray>(buf: TypedBuffer<T>): Win<T> {
    this.checkBuffer(buf, 'winCreate');
    return new Win(this, 'create', buf, false);
  }

  /** Collective: `count` elements of `type` from this rank's heap as a window (MPI_Win_allocate); win.buffer. */
  winAllocate<T extends TypedArray>(type: TypedArrayCtor<T>, count: number): Win<T> {
    const buf = this.alloc(type, count);
    buf.fill(typeof new type(1)[0] === 'bigint' ? 0n : 0);
    return new Win(this, 'allocate', buf, true);
  }

  /** Collective: a window with no memory yet; attach(buf) and detach(buf) expose and withdraw memory (MPI_Win_create_dynamic). */
  winCreateDynamic(): Win {
    return new Win(this, 'dynamic', undefined, false);
  }

  // ───────────────────────── point-to-point ─────────────────────────

  send(buf: TypedBuffer, dest: number, tag = 0): void {
    this.isend(buf, dest, tag).wait();
  }

  isend(buf: TypedBuffer, dest: number, tag = 0): Request {
    return this.sendMode(buf, dest, tag, {});
  }

  /** Synchronous send (MPI_Ssend): returns only once the receiver has matched it, whatever the size. */
  ssend(buf: TypedBuffer, dest: number, tag = 0): void {
    this.issend(buf, dest, tag).wait();
  }

  issend(buf: TypedBuffer, dest: number, tag = 0): Request {
    return this.sendMode(buf, dest, tag, { synchronous: true });
  }

  /** A persistent send (MPI_Send_init): start() it, wait for it, start it again; free() it at the end. */
  sendInit(buf: TypedBuffer, dest: number, tag = 0): Request {
    this.checkSend(buf, dest, tag);
    const release = (h: HeldRegistration) => h.reg && this.runtime.engine.env.cache.release(h.reg);
    return new PersistentRequest(this.runtime.engine, 'send', dest, tag, (held) => this.sendMode(buf, dest, tag, { held }), release);
  }

  /** A persistent receive (MPI_Recv_init). */
  recvInit(buf: TypedBuffer, source: number = ANY_SOURCE, tag: number = ANY_TAG): Request {
    this.checkSource(source, 'recvInit');
    this.checkTag(tag, true);
    this.targetOf(buf, 'recvInit');
    return new PersistentRequest(this.runtime.engine, 'recv', source, tag, () => this.irecv(buf, source, tag), () => {});
  }

  private sendMode(buf: TypedBuffer, dest: number, tag: number, mode: SendMode): Request {
    const b = this.checkSend(buf, dest, tag);
    return this.runtime.engine.isend(this.route, dest, tag, { addr: b.addr, length: b.byteLength }, mode);
  }

  private checkSend(buf: TypedBuffer, dest: number, tag: number): TypedBuffer {
    this.checkDest(dest, 'send');
    this.checkTag(tag, false);
    return this.checkBuffer(buf, 'send');
  }

  recv(buf: TypedBuffer, source: number = ANY_SOURCE, tag: number = ANY_TAG): Status {
    return this.irecv(buf, source, tag).wait();
  }

  irecv(buf: TypedBuffer, source: number = ANY_SOURCE, tag: number = ANY_TAG): Request {
    this.checkSource(source, 'recv');
    this.checkTag(tag, true);
    return this.runtime.engine.irecv(this.route, source, tag, this.targetOf(buf, 'recv'));
  }

  /** Send and receive at once (both posted before either waits, so a ring exchange cannot deadlock). */
  sendrecv(sbuf: TypedBuffer, dest: number, stag: number, rbuf: TypedBuffer, source: number = ANY_SOURCE, rtag: number = ANY_TAG): Status {
    const r = this.irecv(rbuf, source, rtag);
    const s = this.isend(sbuf, dest, stag);
    return Request.waitAll([r, s])[0]!;
  }

  probe(source: number = ANY_SOURCE, tag: number = ANY_TAG): Status {
    this.checkSource(source, 'probe');
    this.checkTag(tag, true);
    if (source === PROC_NULL) return procNullStatus();
    return statusOf(this.runtime.engine.probe({ context: this.context, source, tag }, false));
  }

  iprobe(source: number = ANY_SOURCE, tag: number = ANY_TAG): Status | undefined {
    this.checkSource(source, 'iprobe');
    this.checkTag(tag, true);
    if (source === PROC_NULL) return procNullStatus();
    const a = this.runtime.engine.iprobe({ context: this.context, source, tag }, false);
    return a && statusOf(a);
  }

  /** Matched probe: the message is removed from matching; receive it with the returned Message. */
  mprobe(source: number = ANY_SOURCE, tag: number = ANY_TAG): Message {
    this.checkSource(source, 'mprobe');
    this.checkTag(tag, true);
    if (source === PROC_NULL) return new Message(this, undefined);
    return new Message(this, this.runtime.engine.probe({ context: this.context, source, tag }, true));
  }

  improbe(source: number = ANY_SOURCE, tag: number = ANY_TAG): Message | undefined {
    this.checkSource(source, 'improbe');
    this.checkTag(tag, true);
    if (source === PROC_NULL) return new Message(this, undefined);
    const a = this.runtime.engine.iprobe({ context: this.context, source, tag }, true);
    return a && new Message(this, a);
  }

  // ───────────────────────── objects (msgpack) ─────────────────────────

  /** Sends any msgpack-able value (mpi4py's lowercase send). */
  sendObject(value: unknown, dest: number, tag = 0): void {
    this.isendObject(value, dest, tag).wait();
  }

  isendObject(value: unknown, dest: number, tag = 0): Request {
    this.checkDest(dest, 'sendObject');
    this.checkTag(tag, false);
    return this.runtime.engine.isend(this.route, dest, tag, { bytes: packObject(value) });
  }

  /** Receives a value sent with sendObject; sized from the envelope, so it never truncates. */
  recvObject<V = unknown>(source: number = ANY_SOURCE, tag: number = ANY_TAG, status?: Partial<Status>): V {
    const r = this.irecvObject(source, tag);
    const s = r.wait();
    if (status) Object.assign(status, s);
    return r.value as V;
  }

  /** Nonblocking object receive: after completion the value is `request.value`. */
  irecvObject(source: number = ANY_SOURCE, tag: number = ANY_TAG): Request {
    this.checkSource(source, 'recvObject');
    this.checkTag(tag, true);
    return this.runtime.engine.irecv(this.route, source, tag, 'object');
  }

  sendrecvObject<V = unknown>(value: unknown, dest: number, stag: number, source: number = ANY_SOURCE, rtag: number = ANY_TAG): V {
    const r = this.irecvObject(source, rtag);
    const s = this.isendObject(value, dest, stag);
    Request.waitAll([r, s]);
    return r.value as V;
  }

  // ───────────────────────── collectives (src/collectives/) ─────────────────────────

  barrier(): void {
    coll.barrier(this);
  }

  bcast(buf: TypedBuffer, root = 0): void {
    coll.bcast(this, buf, root);
  }

  /** rbuf matters at the root only (pass null elsewhere). */
  reduce(sbuf: TypedBuffer, rbuf: TypedBuffer | null | undefined, op: ReduceOp, root = 0): void {
    coll.reduce(this, sbuf, rbuf, op, root);
  }

  allreduce(sbuf: TypedBuffer, rbuf: TypedBuffer, op: ReduceOp): void {
    coll.allreduce(this, sbuf, rbuf, op);
  }

  /** rbuf (size × sbuf.count elements) matters at the root only. */
  gather(sbuf: TypedBuffer, rbuf: TypedBuffer | null | undefined, root = 0): void {
    coll.gather(this, sbuf, rbuf, root);
  }

  /** sbuf (size × rbuf.count elements) matters at the root only. */
  scatter(sbuf: TypedBuffer | null | undefined, rbuf: TypedBuffer, root = 0): void {
    coll.scatter(this, sbuf, rbuf, root);
  }

  allgather(sbuf: TypedBuffer, rbuf: TypedBuffer): void {
    coll.allgather(this, sbuf, rbuf);
  }

  alltoall(sbuf: TypedBuffer, rbuf: TypedBuffer): void {
    coll.alltoall(this, sbuf, rbuf);
  }

  // v-collectives, reduce-scatter, scans: counts and displacements in elements (collectives/vector.ts, reduce-scatter.ts, scan.ts)
  /** rbuf, counts and displs (null: packed) matter at the root only. */
  gatherv(sbuf: TypedBuffer, rbuf: TypedBuffer | null | undefined, counts: Counts, displs: Counts = null, root = 0): void {
    coll.gatherv(this, sbuf, rbuf, counts, displs, root);
  }
  /** sbuf, counts and displs (null: packed) matter at the root only. */
  scatterv(sbuf: TypedBuffer | null | undefined, counts: Counts, displs: Counts, rbuf: TypedBuffer, root = 0): void {
    coll.scatterv(this, sbuf, counts, displs, rbuf, root);
  }
  allgatherv(sbuf: TypedBuffer, rbuf: TypedBuffer, counts: readonly number[], displs: Counts = null): void {
    coll.allgatherv(this, sbuf, rbuf, counts, displs);
  }
  alltoallv(sbuf: TypedBuffer, scounts: readonly number[], sdispls: Counts, rbuf: TypedBuffer, rcounts: readonly number[], rdispls: Counts = null): void {
    coll.alltoallv(this, sbuf, scounts, sdispls, rbuf, rcounts, rdispls);
  }
  reduceScatter(sbuf: TypedBuffer, rbuf: TypedBuffer, counts: readonly number[], op: ReduceOp): void {
    coll.reduceScatter(this, sbuf, rbuf, counts, op);
  }
  reduceScatterBlock(sbuf: TypedBuffer, rbuf: TypedBuffer, op: ReduceOp): void {
    coll.reduceScatterBlock(this, sbuf, rbuf, op);
  }
  scan(sbuf: TypedBuffer, rbuf: TypedBuffer, op: ReduceOp): void {
    coll.scan(this, sbuf, rbuf, op);
  }
  /** rank 0's rbuf is left untouched. */
  exscan(sbuf: TypedBuffer, rbuf: TypedBuffer, op: ReduceOp): void {
    coll.exscan(this, sbuf, rbuf, op);
  }
  scanObject<V>(value: V, op: ReduceFn<V> | ReduceOp): V {
    return coll.scanObject(this, value, op);
  }
  /** undefined on rank 0. */
  exscanObject<V>(value: V, op: ReduceFn<V> | ReduceOp): V | undefined {
    return coll.exscanObject(this, value, op);
  }

  // nonblocking collectives: the blocking forms' schedules, advanced as the program waits or tests (collectives/nonblocking.ts)
  ibarrier(): Request {
    return coll.ibarrier(this);
  }
  ibcast(buf: TypedBuffer, root = 0): Request {
    return coll.ibcast(this, buf, root);
  }
  ireduce(sbuf: TypedBuffer, rbuf: TypedBuffer | null | undefined, op: ReduceOp, root = 0): Request {
    return coll.ireduce(this, sbuf, rbuf, op, root);
  }
  iallreduce(sbuf: TypedBuffer, rbuf: TypedBuffer, op: ReduceOp): Request {
    return coll.iallreduce(this, sbuf, rbuf, op);
  }
  igather(sbuf: TypedBuffer, rbuf: TypedBuffer | null | undefined, root = 0): Request {
    return coll.igather(this, sbuf, rbuf, root);
  }
  iallgather(sbuf: TypedBuffer, rbuf: TypedBuffer): Request {
    return coll.iallgather(this, sbuf, rbuf);
  }
  ialltoall(sbuf: TypedBuffer, rbuf: TypedBuffer): Request {
    return coll.ialltoall(this, sbuf, rbuf);
  }

  bcastObject<V>(value: V, root = 0): V {
    return coll.bcastObject(this, value, root);
  }

  gatherObject<V>(value: V, root = 0): V[] | undefined {
    return coll.gatherObject(this, value, root);
  }

  scatterObject<V>(values: readonly V[] | null | undefined, root = 0): V {
    return coll.scatterObject(this, values, root);
  }

  allgatherObject<V>(value: V): V[] {
    return coll.allgatherObject(this, value);
  }

  alltoallObject<V>(values: readonly V[]): V[] {
    return coll.alltoallObject(this, values);
  }

  reduceObject<V>(value: V, op: ReduceFn<V> | ReduceOp, root = 0): V | undefined {
    return coll.reduceObject(this, value, op, root);
  }

  allreduceObject<V>(value: V, op: ReduceFn<V> | ReduceOp): V {
    return coll.allreduceObject(this, value, op);
  }

  // ───────────────────────── communicators ─────────────────────────

  /** Same group, new context: its messages never match this communicator's. Collective. */
  dup(): Comm {
    const context = this.agreeOnContext();
    return new Comm(this.runtime, this.group, context);
  }

  /**
   * Ranks with the same `color` form a new communicator, ordered by `key` then by rank here.
   * `color` UNDEFINED (or any negative number) leaves this rank out: it gets null. Collective.
   */
  split(color: number, key = 0): Comm | null {
    if (!Number.isInteger(color) || (color < 0 && color !== UNDEFINED)) {
      throw new InvalidArgument('color', `expected an integer >= 0 or UNDEFINED, got ${String(color)}`);
    }
    if (!Number.isInteger(key)) throw new InvalidArgument('key', `expected an integer, got ${String(key)}`);
    const all = this.allgatherInternal<[number, number, number]>([color, key, this.runtime.nextContext]);
    const context = Math.max(...all.map((e) => e[2]));
    this.runtime.nextContext = context + 2;
    if (color < 0) return null;
    const members = all
      .map(([c, k], r) => ({ c, k, r }))
      .filter((e) => e.c === color)
      .sort((a, b) => a.k - b.k || a.r - b.r)
      .map((e) => this.group[e.r]!);
    return new Comm(this.runtime, members, context);
  }

  private agreeOnContext(): number {
    const all = this.allgatherInternal<number>(this.runtime.nextContext);
    const context = Math.max(...all);
    this.runtime.nextContext = context + 2;
    return context;
  }

  /** Linear allgather of small objects on the collective twin (the runtime's own, independent of src/collectives). */
  private allgatherInternal<V>(mine: V): V[] {
    const c = this[kCollective];
    if (c.rank === 0) {
      const all: V[] = [mine];
      for (let r = 1; r < c.size; r++) all.push(c.recvObject<V>(r, CONTEXT_TAG));
      for (let r = 1; r < c.size; r++) c.sendObject(all, r, CONTEXT_TAG);
      return all;
    }
    c.sendObject(mine, 0, CONTEXT_TAG);
    return c.recvObject<V[]>(0, CONTEXT_TAG);
  }

  /** A Cartesian communicator over the first prod(dims) ranks (null on the others); see topology/cart.ts. Collective. */
  cartCreate(dims: readonly number[], periods: readonly boolean[] = [], reorder = false): CartComm | null {
    return topologyHooks.cartCreate!(this, dims, periods, reorder);
  }

  // ───────────────────────── time, stats, control ─────────────────────────

  /** The rank's virtual clock in seconds (like MPI.Wtime, but modeled time). */
  wtime(): number {
    return this.runtime.clock.now / 1e6;
  }

  /** Charges `seconds` of modelled work to the virtual clock as compute (SMPI's smpi_execute), in any --compute mode. */
  compute(seconds: number): void {
    this.runtime.clock.compute(seconds * 1e6);
  }

  /** The rank's counters: message layer, registration cache and adapter. */
  stats(): RankStats {
    return this.runtime.stats();
  }

  /**
   * @internal Charges local work of a collective (a copy, a reduction pass) to this rank's
   * program clock at the cost model's memcpy rate; returns the µs charged.
   */
  chargeLocal(bytes: number): number {
    return this.runtime.engine.chargeLocalCopy(bytes);
  }

  /** Ends the whole job with exit code `code` (MPI_Abort). */
  abort(code = 1, message = 'abort() called'): never {
    return this.runtime.abort(code, message);
  }

  // ───────────────────────── argument checks ─────────────────────────

  /** @internal */
  targetOf(buf: TypedBuffer, op: string): Target {
    const b = this.checkBuffer(buf, op);
    return { addr: b.addr, capacity: b.byteLength, elementSize: b.type.BYTES_PER_ELEMENT };
  }

  private checkBuffer(buf: TypedBuffer, op: string): TypedBuffer {
    if (!(buf instanceof TypedBuffer)) {
      const hint = ArrayBuffer.isView(buf)
        ? 'a plain TypedArray lives outside the simulated memory: copy it into comm.alloc(Type, n) with buf.set(array)'
        : 'for plain values use sendObject()/recvObject()';
      throw new InvalidType(`${op}(): expected a TypedBuffer from comm.alloc() or comm.wrap(), got ${describe(buf)}; ${hint}`);
    }
    if (buf.memory !== this.runtime.memory) {
      throw new InvalidBuffer(`${op}(): the buffer belongs to another rank's memory; allocate it with this rank's comm.alloc()`);
    }
    if (buf.isFreed) throw new InvalidBuffer(`${op}(): the buffer at 0x${buf.addr.toString(16)} was freed; allocate a new one`);
    return buf;
  }

  private checkDest(dest: number, op: string): void {
    if (dest === PROC_NULL) return;
    if (!Number.isInteger(dest) || dest < 0 || dest >= this.size) throw new InvalidRank(`${op} destination`, dest, this.size, false);
  }

  private checkSource(source: number, op: string): void {
    if (source === PROC_NULL || source === ANY_SOURCE) return;
    if (!Number.isInteger(source) || source < 0 || source >= this.size) throw new InvalidRank(`${op} source`, source, this.size, true);
  }

  private checkTag(tag: number, wildcard: boolean): void {
    if (wildcard && tag === ANY_TAG) return;
    if (!Number.isInteger(tag) || tag < 0 || tag > TAG_UB) throw new InvalidTag(tag, wildcard);
  }
}

function statusOf(a: Arrival): Status {
  return { source: a.source, tag: a.tag, count: a.length, byteCount: a.length };
}

function procNullStatus(): Status {
  return { source: PROC_NULL, tag: ANY_TAG, count: 0, byteCount: 0 };
}
