import type { Status } from '../../status.js';
import { asBufferError, guardBuffer, guardRecv } from '../buffer-errors.js';
import { copyUs } from '../copy-cost.js';
import { Kind, type Envelope } from '../envelope.js';
import type { ShmIncoming } from '../intra.js';
import { decodeObject } from '../object-codec.js';
import type { Arrival, Payload, RecvOp, Route, SendOp } from '../operations.js';
import type { Protocol, ProtocolHost } from '../protocol.js';

/**
 * shm (issue 7): the envelope and the payload go through the per-pair ring to a node peer, copied
 * in from the send buffer; the send completes when the last byte is in the ring (buffered, like
 * eager). The receiver copies out (double copy, pipelined). The sequence number is the same counter
 * the adapter path uses, so order is kept across paths.
 */
export class ShmProtocol implements Protocol {
  readonly name = 'shm';

  constructor(private readonly host: ProtocolHost) {}

  accepts(env: Envelope): boolean {
    return env.kind === Kind.SHM;
  }

  send(route: Route, op: SendOp, payload: Payload, status: Status): void {
    const { counters, clock, device, costs } = this.host.env;
    const env = this.host.envelope(Kind.SHM, route.context, route.rank, op.tag, op.length);
    device.set(clock.now);
    device.advance(costs.overheadUs);
    const source = 'bytes' in payload ? { bytes: payload.bytes } : { addr: payload.addr };
    guardBuffer(() => this.host.postRing(op.destWorld, env, source, op.length, (t) => op.req.complete(status, t)), 'send buffer');
    clock.advanceTo(device.now);
    counters.eagerSends++;
    counters.eagerBytesSent += op.length;
  }

  onEnvelope(env: Envelope, _payload: Uint8Array, time: number, from: number, incoming?: ShmIncoming): void {
    this.host.arrive({
      protocol: this, context: env.context, source: env.source, tag: env.tag, length: env.length, time, fromWorld: from, shm: incoming!,
    });
  }

  /**
   * A receive matched before any payload was read takes the payload straight from the ring (the
   * second of the two copies); otherwise it went to a temporary buffer and is copied out of it
   * (the unexpected-message copy every MPI pays).
   */
  receive(recv: RecvOp, a: Arrival, status: Status, start: number): void {
    const { space, heap, costs } = this.host.env;
    const inc = a.shm!;
    const length = a.length;
    const drained = inc.got === length && inc.done === undefined && inc.landing !== undefined;
    if (recv.target === 'object') {
      const deliver = (t: number): void => {
        const at = Math.max(t, start);
        decodeObject(recv.req, space.read(inc.temp!, length), status, at);
        heap.free(inc.temp!);
        recv.req.complete(status, at, costs.overheadUs);
      };
      if (drained) deliver(inc.time);
      else inc.done = deliver;
      return;
    }
    const target = recv.target;
    // Virtual time decides the protocol, not which thread got there first: a receive posted (in
    // virtual time) before the message arrived takes it straight from the ring, whether or not the
    // payload already went to a temporary here; one posted later pays the unexpected-message copy.
    const postedFirst = recv.postTime <= a.time;
    if (inc.landing === undefined && length > 0 && postedFirst) {
      inc.landing = target.addr;
      inc.time = Math.max(inc.time, start);
      inc.fail = (e) => recv.req.fail(asBufferError(e, 'receive buffer'), inc.time, status);
      inc.done = (t) => recv.req.complete(status, t, costs.overheadUs);
      return;
    }
    const moveOut = (t: number): void => {
      const at = Math.max(t, start);
      if (length > 0) {
        guardRecv(recv, status, at, () => space.copy(target.addr, inc.temp!, length));
        heap.free(inc.temp!);
      }
      if (!recv.req.completed) recv.req.complete(status, at, costs.overheadUs + (postedFirst ? 0 : copyUs(costs, length)));
    };
    if (drained || length === 0) moveOut(inc.time);
    else inc.done = moveOut;
  }

  /** A truncated shm message: its payload is drained into the temporary buffer and dropped. */
  drop(a: Arrival): void {
    const inc = a.shm!;
    const free = (): void => {
      if (inc.temp !== undefined) this.host.env.heap.free(inc.temp);
    };
    if (inc.got === inc.env.length && inc.done === undefined && inc.landing !== undefined) free();
    else inc.done = free;
  }
}
