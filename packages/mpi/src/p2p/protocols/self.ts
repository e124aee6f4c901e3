import { MpiError } from '../../errors.js';
import type { Status } from '../../status.js';
import { guardBuffer, guardRecv } from '../buffer-errors.js';
import { copyUs } from '../copy-cost.js';
import type { Envelope } from '../envelope.js';
import { decodeObject } from '../object-codec.js';
import type { Arrival, Payload, RecvOp, Route, SendOp } from '../operations.js';
import type { Protocol, ProtocolHost } from '../protocol.js';
import { deliverBuffered } from './eager.js';

/**
 * A send to the rank itself: no adapter, no envelope. Buffered (the bytes copied at once, the send
 * complete, as eager) or synchronous (the copy happens when the receive matches, and the send
 * completes then; MPICH does the same for large self-sends). Object messages are always buffered:
 * their bytes are already a copy.
 */
export class SelfProtocol implements Protocol {
  readonly name = 'self';

  constructor(
    private readonly host: ProtocolHost,
    private readonly buffered: boolean,
  ) {}

  accepts(): boolean {
    return false;
  }

  onEnvelope(env: Envelope): void {
    throw new MpiError('MPI_ERR_INTERN', `a self-send has no envelope (got kind ${env.kind})`);
  }

  send(route: Route, op: SendOp, payload: Payload, status: Status): void {
    const { counters, clock, space, costs } = this.host.env;
    counters.selfSends++;
    const arrival: Arrival = {
      protocol: this, context: route.context, source: route.rank, tag: op.tag, length: op.length, time: clock.now, fromWorld: op.destWorld,
    };
    if ('bytes' in payload) {
      arrival.data = payload.bytes;
      op.req.complete(status, clock.now);
    } else if (this.buffered) {
      arrival.data = guardBuffer(() => space.read(payload.addr, payload.length), 'send buffer');
      clock.advance(copyUs(costs, op.length));
      op.req.complete(status, clock.now);
    } else {
      arrival.selfSend = { op, addr: payload.addr };
      this.host.awaitReceiver(op);
    }
    this.host.arrive(arrival);
  }

  receive(recv: RecvOp, a: Arrival, status: Status, start: number): void {
    if (a.data) {
      deliverBuffered(this.host.env, recv, a, status, start);
      return;
    }
    const { space, costs } = this.host.env;
    const s = a.selfSend!;
    if (recv.target === 'object') {
      decodeObject(recv.req, space.read(s.addr, a.length), status, start);
    } else {
      const t = recv.target;
      guardRecv(recv, status, start, () => space.copy(t.addr, s.addr, a.length));
      if (recv.req.completed) {
        this.host.completeSend(s.op, start);
        return;
      }
    }
    const done = start + copyUs(costs, a.length);
    recv.req.complete(status, done);
    this.host.completeSend(s.op, done);
  }

  drop(a: Arrival, start: number): void {
    if (a.selfSend) this.host.completeSend(a.selfSend.op, start);
  }
}
