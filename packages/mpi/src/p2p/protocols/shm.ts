import type { Status } from '../../status.js';
import { guardBuffer, guardRecv } from '../buffer-errors.js';
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
    const posted = device.now;
    const source = 'bytes' in payload ? { bytes: payload.bytes } : { addr: payload.addr };
    guardBuffer(() => this.host.postRing(op.destWorld, env, source, op.length, (t) => op.req.complete(status, t)), 'send buffer');
    // The copies in reach the program clock through the request (its completion time), not here:
    // how many of them the ring took during this call depends on when its receiver's thread
    // emptied slots, which virtual time must not.
    clock.advanceTo(posted);
    counters.eagerSends++;
    counters.eagerBytesSent += op.length;
  }

  onEnvelope(env: Envelope, _payload: Uint8Array, time: number, from: number, incoming?: ShmIncoming): void {
    this.host.arrive({
      protocol: this, context: env.context, source: env.source, tag: env.tag, length: env.length, time, fromWorld: from, shm: incoming!,
    });
  }

  /**
   * The payload reaches the receive buffer in the message's completion event (intra.ts): at once if
   * that already ran, else when it does. A receive posted (in virtual time) before the message
   * arrived counts the ring's copy out as its own; one posted later pays the unexpected-message copy
   * every MPI pays. Virtual time decides which, not which thread got there first.
   */
  receive(recv: RecvOp, a: Arrival, status: Status, start: number): void {
    const { space, costs } = this.host.env;
    const inc = a.shm!;
    const length = a.length;
    const target = recv.target;
    const postedFirst = recv.postTime <= a.time;
    const deliver = (t: number): void => {
      const at = Math.max(t, start);
      if (target === 'object') {
        decodeObject(recv.req, inc.data, status, at);
        recv.req.complete(status, at, costs.overheadUs);
        return;
      }
      if (length > 0) guardRecv(recv, status, at, () => space.write(target.addr, inc.data));
      if (!recv.req.completed) recv.req.complete(status, at, costs.overheadUs + (postedFirst ? 0 : copyUs(costs, length)));
    };
    if (inc.complete) deliver(inc.time);
    else inc.done = deliver;
  }

  /** A truncated shm message: its payload still drains from the ring (its sender waits for that) and is dropped. */
  drop(): void {}
}
