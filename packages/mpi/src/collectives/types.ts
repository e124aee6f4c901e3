import type { kCollective } from '../symbols.js';

/**
 * The shapes the collectives need from the rest of @tsmpi/mpi, written structurally so the
 * algorithms depend on what they use (point-to-point on the collective twin, alloc for
 * temporaries), not on the Comm class that delegates to them.
 */
export type TypedArray =
  | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array
  | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

export interface TypedArrayCtor<T extends TypedArray = TypedArray> {
  new (length: number): T;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
}

/** A typed buffer in the rank's simulated memory (the package's TypedBuffer). */
export interface Buffer<T extends TypedArray = TypedArray> {
  readonly addr: number;
  readonly count: number;
  readonly byteLength: number;
  readonly type: TypedArrayCtor<T>;
  toArray(): T;
  set(data: ArrayLike<number | bigint>, offset?: number): void;
  subarray(begin: number, end?: number): Buffer<T>;
  free(): void;
}

export interface Status {
  source: number;
  tag: number;
  count: number;
  byteCount: number;
}

export interface Waitable {
  wait(): Status;
}

/** Point-to-point as the collective twin offers it. */
export interface PointToPoint {
  readonly rank: number;
  readonly size: number;
  send(buf: Buffer<any>, dest: number, tag?: number): void;
  recv(buf: Buffer<any>, source?: number, tag?: number): Status;
  sendrecv(sbuf: Buffer<any>, dest: number, stag: number, rbuf: Buffer<any>, source: number, rtag: number): Status;
  isend(buf: Buffer<any>, dest: number, tag?: number): Waitable;
  irecv(buf: Buffer<any>, source?: number, tag?: number): Waitable;
  sendObject(value: unknown, dest: number, tag?: number): void;
  recvObject<V = unknown>(source?: number, tag?: number): V;
  isendObject(value: unknown, dest: number, tag?: number): Waitable;
}

/** What a collective is called on: a communicator with its collective twin. */
export interface CollectiveComm {
  readonly rank: number;
  readonly size: number;
  alloc<T extends TypedArray>(type: TypedArrayCtor<T>, count: number): Buffer<T>;
  readonly [kCollective]: PointToPoint;
}
