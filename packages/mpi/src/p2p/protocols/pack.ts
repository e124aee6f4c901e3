import type { Status } from '../../status.js';
import { guardBuffer } from '../buffer-errors.js';
import { copyUs } from '../copy-cost.js';
import type { Envelope } from '../envelope.js';
import type { Arrival, Payload, RecvOp, Route, SendOp } from '../operations.js';
import type { Protocol, ProtocolHost } from '../protocol.js';

/**
 * A non-contiguous send packed (p2p/noncontig.ts): the sender copies its segments into one run at
 * the memcpy rate, then the path's own protocol sends those bytes as it sends an object message's
 * (an eager slot, a ring, or a rendezvous temporary). Nothing of it arrives under this name.
 */
export class PackProtocol implements Protocol {
  readonly name = 'pack';

  /** The path's protocol for the packed bytes (set by ProtocolSelection). */
  inner: (destWorld: number, length: number, synchronous: boolean) => Protocol = () => {
    throw new Error('pack: no protocol selection bound');
  };

  constructor(private readonly host: ProtocolHost) {}

  accepts(_env: Envelope): boolean {
    return false;
  }

  send(route: Route, op: SendOp, payload: Payload, status: Status): void {
    const { space, clock, costs, counters } = this.host.env;
    if ('bytes' in payload || payload.gather === undefined) throw new Error('pack: expects a non-contiguous buffer');
    const bytes = new Uint8Array(op.length);
    guardBuffer(() => {
      let at = 0;
      for (const s of payload.gather!.segments) {
        if (at + s.length > bytes.length) break;
        bytes.set(space.read(s.addr, s.length), at);
        at += s.length;
      }
    }, 'send buffer');
    clock.advance(copyUs(costs, op.length));
    counters.packedSends++;
    counters.packedBytes += op.length;
    // a persistent send's held registration belongs to its buffer, not to this start's temporary
    op.held = undefined;
    this.inner(op.destWorld, op.length, op.synchronous === true).send(route, op, { bytes }, status);
  }

  onEnvelope(): void {}

  receive(_recv: RecvOp, _a: Arrival): void {
    throw new Error('pack: sends only (the receiver sees the inner protocol)');
  }

  drop(): void {}
}
