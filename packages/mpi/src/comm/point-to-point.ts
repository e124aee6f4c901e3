import { ANY_SOURCE, ANY_TAG, PROC_NULL } from '../constants.js';
import { Message } from '../message.js';
import { packObject } from '../p2p/object-codec.js';
import type { Arrival, HeldRegistration, SendMode } from '../p2p/operations.js';
import { CombinedRequest } from '../combined-request.js';
import { PersistentRequest } from '../persistent.js';
import { completedRequest, waitAllOwnError, type Request } from '../request.js';
import { AttachedBuffer } from '../p2p/buffered.js';
import { InvalidBuffer } from '../errors.js';
import type { RankRuntimeFace } from '../rank/runtime-face.js';
import type { Status } from '../status.js';
import type { BufferArg, BufferSpec } from '../datatype/buffer-spec.js';
import type { TypedBuffer } from '../typed-buffer.js';
import { pack } from '../datatype/pack.js';
import { guardBuffer } from '../p2p/buffer-errors.js';
import type { Comm } from '../comm.js';
import { CommCore } from './core.js';

/** Each rank's attached buffer for buffered sends (MPI attaches one per process). */
const attached = new WeakMap<RankRuntimeFace, AttachedBuffer>();

/** Point-to-point calls and msgpack'd objects (the engine in p2p/ does the work). */
export abstract class CommPointToPoint extends CommCore {
  // ───────────────────────── point-to-point ─────────────────────────

  send(buf: BufferSpec, dest: number, tag = 0): void {
    this.isend(buf, dest, tag).wait();
  }

  isend(buf: BufferSpec, dest: number, tag = 0): Request {
    return this.sendMode(buf, dest, tag, {});
  }

  /** Synchronous send (MPI_Ssend): returns only once the receiver has matched it, whatever the size. */
  ssend(buf: BufferSpec, dest: number, tag = 0): void {
    this.issend(buf, dest, tag).wait();
  }

  issend(buf: BufferSpec, dest: number, tag = 0): Request {
    return this.sendMode(buf, dest, tag, { synchronous: true });
  }

  /** A persistent send (MPI_Send_init): start() it, wait for it, start it again; free() it at the end. */
  sendInit(buf: BufferSpec, dest: number, tag = 0): Request {
    this.checkSend(buf, dest, tag);
    const release = (h: HeldRegistration) => h.reg && this.runtime.engine.env.cache.release(h.reg);
    return new PersistentRequest(this.runtime.engine, 'send', dest, tag, (held) => this.sendMode(buf, dest, tag, { held }), release);
  }

  /** A persistent receive (MPI_Recv_init). */
  recvInit(buf: BufferSpec, source: number = ANY_SOURCE, tag: number = ANY_TAG): Request {
    this.checkSource(source, 'recvInit');
    this.checkTag(tag, true);
    this.checkBuffer(buf, 'recvInit');
    return new PersistentRequest(this.runtime.engine, 'recv', source, tag, () => this.irecv(buf, source, tag), () => {});
  }

  // ───────────────────────── buffered sends (p2p/buffered.ts) ─────────────────────────

  /** MPI_Buffer_attach: `buf` becomes this rank's buffer for bsend/ibsend; one at a time. */
  bufferAttach(buf: TypedBuffer): void {
    const b = this.checkTyped(buf, 'bufferAttach');
    if (attached.has(this.runtime)) throw new InvalidBuffer('bufferAttach(): a buffer is already attached to this rank; bufferDetach() it first');
    attached.set(this.runtime, new AttachedBuffer(b));
  }

  /** MPI_Buffer_detach: waits until every buffered message has left, then hands the buffer back. */
  bufferDetach(): TypedBuffer {
    const a = attached.get(this.runtime);
    if (!a) throw new InvalidBuffer('bufferDetach(): no buffer is attached to this rank; bufferAttach(buf) first');
    try {
      a.drain();
    } finally {
      attached.delete(this.runtime);
    }
    return a.buffer;
  }

  /** Buffered send (MPI_Bsend): copies the message into the attached buffer and returns; it leaves from there. */
  bsend(buf: BufferSpec, dest: number, tag = 0): void {
    this.ibsend(buf, dest, tag).wait();
  }

  /** MPI_Ibsend: as bsend, and the request is complete once the copy is made. */
  ibsend(buf: BufferSpec, dest: number, tag = 0): Request {
    const b = this.checkSend(buf, dest, tag);
    if (dest === PROC_NULL) return this.isend(buf, dest, tag);
    const a = attached.get(this.runtime);
    if (!a) {
      throw new InvalidBuffer(`bsend(): no buffer is attached to this rank; attach one first: comm.bufferAttach(comm.alloc(Uint8Array, ${b.bytes} + BSEND_OVERHEAD))`);
    }
    const { engine } = this.runtime;
    const at = a.reserve(b.bytes, (r) => engine.testRequest(r));
    const segment = this.wrap(Uint8Array, at, b.bytes);
    segment.set(guardBuffer(() => pack(b), 'send buffer'));
    this.chargeLocal(b.bytes);
    // sent as an isend of the segment, so tracing pairs it with its receive like any message
    a.track(at, b.bytes, this.isend(segment, dest, tag));
    const status = { source: this.rank, tag, count: 0, byteCount: b.bytes };
    return completedRequest(engine, status, this.runtime.clock.now, 'send', dest, tag);
  }

  private sendMode(buf: BufferSpec, dest: number, tag: number, mode: SendMode): Request {
    const b = this.checkSend(buf, dest, tag);
    if (b.contiguous) return this.runtime.engine.isend(this.route, dest, tag, { addr: b.dataAddr, length: b.bytes }, mode);
    // a non-contiguous datatype: packed or sent by scatter/gather RDMA, as p2p/noncontig.ts's rule says
    const span = b.span();
    return this.runtime.engine.isend(this.route, dest, tag, { addr: span.addr, length: b.bytes, gather: { segments: b.segments(), span } }, mode);
  }

  private checkSend(buf: BufferSpec, dest: number, tag: number): BufferArg {
    this.checkDest(dest, 'send');
    this.checkTag(tag, false);
    return this.checkBuffer(buf, 'send');
  }

  recv(buf: BufferSpec, source: number = ANY_SOURCE, tag: number = ANY_TAG): Status {
    return this.irecv(buf, source, tag).wait();
  }

  irecv(buf: BufferSpec, source: number = ANY_SOURCE, tag: number = ANY_TAG): Request {
    this.checkSource(source, 'recv');
    this.checkTag(tag, true);
    const target = this.targetOf(buf, 'recv');
    const req = this.runtime.engine.irecv(this.route, source, tag, target);
    return target.finish ? target.finish(req) : req;
  }

  /** Send and receive at once (both posted before either waits, so a ring exchange cannot deadlock). */
  sendrecv(sbuf: BufferSpec, dest: number, stag: number, rbuf: BufferSpec, source: number = ANY_SOURCE, rtag: number = ANY_TAG): Status {
    const r = this.irecv(rbuf, source, rtag);
    const s = this.isend(sbuf, dest, stag);
    return waitAllOwnError([r, s])[0]!;
  }

  /** Nonblocking sendrecv (MPI_Isendrecv): one request, complete when both are; its status is the receive's. */
  isendrecv(sbuf: BufferSpec, dest: number, stag: number, rbuf: BufferSpec, source: number = ANY_SOURCE, rtag: number = ANY_TAG): Request {
    const r = this.irecv(rbuf, source, rtag);
    const s = this.isend(sbuf, dest, stag);
    return new CombinedRequest([r, s], r);
  }

  /** Sends `buf` and receives into it (MPI_Sendrecv_replace): the outgoing bytes go through a temporary copy. */
  sendrecvReplace(buf: BufferSpec, dest: number, stag: number, source: number = ANY_SOURCE, rtag: number = ANY_TAG): Status {
    return this.isendrecvReplace(buf, dest, stag, source, rtag).wait();
  }

  /**
   * Nonblocking sendrecvReplace (MPI_Isendrecv_replace): `buf` is copied into a temporary (charged
   * as a memcpy) that is sent while the receive lands in `buf`; the temporary is freed on completion.
   */
  isendrecvReplace(buf: BufferSpec, dest: number, stag: number, source: number = ANY_SOURCE, rtag: number = ANY_TAG): Request {
    this.checkDest(dest, 'isendrecvReplace');
    this.checkTag(stag, false);
    const b = this.checkBuffer(buf, 'isendrecvReplace');
    const copy = this.alloc(Uint8Array, b.bytes);
    try {
      copy.set(guardBuffer(() => pack(b), 'send buffer'));
      this.chargeLocal(b.bytes);
      const r = this.irecv(buf, source, rtag);
      const s = this.isend(copy, dest, stag);
      return new CombinedRequest([r, s], r, () => copy.free());
    } catch (e) {
      copy.free();
      throw e;
    }
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
  mprobe(this: Comm, source: number = ANY_SOURCE, tag: number = ANY_TAG): Message {
    this.checkSource(source, 'mprobe');
    this.checkTag(tag, true);
    if (source === PROC_NULL) return new Message(this, undefined);
    return new Message(this, this.runtime.engine.probe({ context: this.context, source, tag }, true));
  }

  improbe(this: Comm, source: number = ANY_SOURCE, tag: number = ANY_TAG): Message | undefined {
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
    waitAllOwnError([r, s]);
    return r.value as V;
  }
}

function statusOf(a: Arrival): Status {
  return { source: a.source, tag: a.tag, count: a.length, byteCount: a.length };
}

function procNullStatus(): Status {
  return { source: PROC_NULL, tag: ANY_TAG, count: 0, byteCount: 0 };
}
