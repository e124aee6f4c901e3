import type { Comm } from './comm.js';
import { ANY_TAG, PROC_NULL } from './constants.js';
import { InvalidArgument } from './errors.js';
import type { Arrival } from './p2p/operations.js';
import type { Request } from './request.js';
import type { Status } from './status.js';
import type { BufferSpec } from './datatype/buffer-spec.js';

/** A message taken out of the matching queues by mprobe()/improbe(): only this handle can receive it. */
export class Message {
  readonly source: number;
  readonly tag: number;
  /** Bytes of the message. */
  readonly byteCount: number;
  private taken = false;

  /**
   * @internal `arrival` undefined: the no-proc message (MPI_MESSAGE_NO_PROC) an mprobe of PROC_NULL
   * returns (MPI-3.1 §3.8.2): source PROC_NULL, tag ANY_TAG, no bytes; receiving it completes at once.
   */
  constructor(
    private readonly comm: Comm,
    /** @internal */ readonly arrival: Arrival | undefined,
  ) {
    this.source = arrival?.source ?? PROC_NULL;
    this.tag = arrival?.tag ?? ANY_TAG;
    this.byteCount = arrival?.length ?? 0;
  }

  /** mrecv: receive this message into `buf`. */
  recv(buf: BufferSpec): Status {
    return this.irecv(buf).wait();
  }

  irecv(buf: BufferSpec): Request {
    this.take();
    const target = this.comm.targetOf(buf, 'Message.recv');
    const { engine } = this.comm.runtime;
    const req = this.arrival ? engine.mrecv(this.arrival, target) : engine.irecv(this.comm.route, PROC_NULL, ANY_TAG, target);
    return target.finish ? target.finish(req) : req;
  }

  /** Receive this message as an object (it must have been sent with sendObject); undefined for the no-proc message. */
  recvObject<V = unknown>(): V {
    this.take();
    const { engine } = this.comm.runtime;
    const r = this.arrival ? engine.mrecv(this.arrival, 'object') : engine.irecv(this.comm.route, PROC_NULL, ANY_TAG, 'object');
    r.wait();
    return r.value as V;
  }

  private take(): void {
    if (this.taken) throw new InvalidArgument('message', 'this matched message was already received');
    this.taken = true;
  }
}
