import type { kCollective } from '../symbols.js';
import type { Request } from '../request.js';
import type { Status } from '../status.js';
import type { TypedArray, TypedArrayCtor, TypedBuffer } from '../typed-buffer.js';

/**
 * The shapes the collectives need from the rest of @tsmpi/mpi: point-to-point on the
 * collective twin and alloc for temporaries. Written as interfaces rather than the Comm
 * class so the algorithms name only what they use (and Comm can import them without a cycle
 * of values).
 */
export type { TypedArray, TypedArrayCtor, Status };
export type Buffer<T extends TypedArray = TypedArray> = TypedBuffer<T>;
export type Waitable = Request;

/**
 * Local work charged to the rank's program clock (a Comm-internal method): `bytes` at the cost
 * model's memcpy rate, the same formula the message engine uses for eager copies.
 */
export interface LocalWork {
  chargeLocal(bytes: number): number;
}

/** Point-to-point as the collective twin offers it. */
export interface PointToPoint extends LocalWork {
  readonly rank: number;
  readonly size: number;
  send(buf: Buffer<any>, dest: number, tag?: number): void;
  recv(buf: Buffer<any>, source?: number, tag?: number): Status;
  sendrecv(sbuf: Buffer<any>, dest: number, stag: number, rbuf: Buffer<any>, source: number, rtag: number): Status;
  isend(buf: Buffer<any>, dest: number, tag?: number): Request;
  irecv(buf: Buffer<any>, source?: number, tag?: number): Request;
  sendObject(value: unknown, dest: number, tag?: number): void;
  recvObject<V = unknown>(source?: number, tag?: number): V;
  isendObject(value: unknown, dest: number, tag?: number): Request;
}

/** What a collective is called on: a communicator with its collective twin. */
export interface CollectiveComm extends LocalWork {
  readonly rank: number;
  readonly size: number;
  alloc<T extends TypedArray>(type: TypedArrayCtor<T>, count: number): Buffer<T>;
  readonly [kCollective]: PointToPoint;
}
