import type { Comm } from './comm.js';
import { InvalidArgument } from './errors.js';
import type { Arrival } from './p2p/operations.js';
import type { Request } from './request.js';
import type { Status } from './status.js';
import type { TypedBuffer } from './typed-buffer.js';

/** A message taken out of the matching queues by mprobe()/improbe(): only this handle can receive it. */
export class Message {
  readonly source: number;
  readonly tag: number;
  /** Bytes of the message. */
  readonly byteCount: number;
  private taken = false;

  /** @internal */
  constructor(
    private readonly comm: Comm,
    /** @internal */ readonly arrival: Arrival,
  ) {
    this.source = arrival.source;
    this.tag = arrival.tag;
    this.byteCount = arrival.length;
  }

  /** mrecv: receive this message into `buf`. */
  recv(buf: TypedBuffer): Status {
    return this.irecv(buf).wait();
  }

  irecv(buf: TypedBuffer): Request {
    this.take();
    return this.comm.runtime.engine.mrecv(this.arrival, this.comm.targetOf(buf, 'Message.recv'));
  }

  /** Receive this message as an object (it must have been sent with sendObject). */
  recvObject<V = unknown>(): V {
    this.take();
    const r = this.comm.runtime.engine.mrecv(this.arrival, 'object');
    r.wait();
    return r.value as V;
  }

  private take(): void {
    if (this.taken) throw new InvalidArgument('message', 'this matched message was already received');
    this.taken = true;
  }
}
