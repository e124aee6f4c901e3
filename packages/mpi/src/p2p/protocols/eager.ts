import type { Status } from '../../status.js';
import { asBufferError, guardRecv } from '../buffer-errors.js';
import { copyUs } from '../copy-cost.js';
import { ENVELOPE_BYTES, Flags, Kind, type Envelope } from '../envelope.js';
import { decodeObject } from '../object-codec.js';
import type { Arrival, Payload, RecvOp, Route, SendOp } from '../operations.js';
import type { Protocol, ProtocolEnv, ProtocolHost } from '../protocol.js';
import type { SpacePort } from '../ports.js';
import { EagerFrames, type EagerFrame } from '../eager-frames.js';
import { sendFin } from './rendezvous.js';

/**
 * Eager: the envelope and the payload in one bounce-slot send; the sender's buffer is free as soon
 * as its bytes are copied into the slot. The receiver copies them out of its receive slot into the
 * matched buffer (or keeps them as an unexpected message until a receive matches).
 */
export class EagerProtocol implements Protocol {
  readonly name = 'eager';

  /** Frames of this rank's eager sends, reused (eager-frames.ts says why a pool and not one frame). */
  private readonly frames: EagerFrames;
  /** The envelope every eager send fills and posts at once (postSend encodes it into the slot). */
  private readonly env: Envelope;

  constructor(private readonly host: ProtocolHost) {
    this.frames = new EagerFrames(host.env.eagerThreshold);
    this.env = host.envelope(Kind.EAGER, 0, 0, 0, 0);
  }

  accepts(env: Envelope): boolean {
    return env.kind === Kind.EAGER;
  }

  send(route: Route, op: SendOp, payload: Payload, status: Status): void {
    const { counters, clock, device, costs, space } = this.host.env;
    // the user's bytes first: a bad buffer throws before a slot or a sequence number is taken
    const frame = this.frames.take(op.length);
    try {
      if ('bytes' in payload) frame.payload.set(payload.bytes);
      else if (op.length > 0) readPayload(space, payload.addr, frame);
      const slot = this.host.takeSendSlot(op);
      // filled and posted with nothing in between that could run another send: one envelope serves them all
      const env = this.env;
      env.kind = Kind.EAGER;
      env.flags = op.synchronous ? Flags.SYNC : 0;
      env.from = this.host.env.rank;
      env.context = route.context;
      env.source = route.rank;
      env.tag = op.tag;
      env.length = op.length;
      env.sendId = op.synchronous ? op.id : 0;
      device.set(clock.now);
      device.advance(copyUs(costs, op.length));
      this.host.postSend(op.destWorld, slot, env, frame.bytes);
    } finally {
      this.frames.give(frame);
    }
    clock.advanceTo(device.now);
    counters.eagerSends++;
    counters.eagerBytesSent += op.length;
    if (op.synchronous) this.host.awaitReceiver(op); // complete on the receiver's FIN
    else op.req.complete(status, clock.now);
  }

  onEnvelope(env: Envelope, payload: Uint8Array, time: number, from: number): void {
    this.host.arrive({
      protocol: this, context: env.context, source: env.source, tag: env.tag, length: env.length, time, fromWorld: from, data: payload,
      flags: env.flags, sendId: env.sendId,
    });
  }

  receive(recv: RecvOp, a: Arrival, status: Status, start: number): void {
    deliverBuffered(this.host.env, recv, a, status, start);
    if (a.flags! & Flags.SYNC) sendFin(this.host, a, 0, start);
  }

  drop(a: Arrival, start: number): void {
    if (a.flags! & Flags.SYNC) sendFin(this.host, a, 0, start);
  }
}

/** A payload already on this rank (eager, buffered self-send) into its receive: one copy, charged to the receiver. */
export function deliverBuffered(env: ProtocolEnv, recv: RecvOp, a: Arrival, status: Status, start: number): void {
  const { space, costs } = env;
  if (recv.target === 'object') {
    decodeObject(recv.req, a.data!, status, start + costs.overheadUs);
  } else if (a.length > 0) {
    const t = recv.target;
    guardRecv(recv, status, start, () => space.write(t.addr, a.data!));
    if (recv.req.completed) return;
  }
  recv.req.complete(status, start, costs.overheadUs + copyUs(costs, a.length));
}

/** The send buffer's bytes into the frame after its envelope; a bad buffer becomes MPI_ERR_BUFFER (asBufferError). */
function readPayload(space: SpacePort, addr: number, frame: EagerFrame): void {
  try {
    space.readInto(addr, frame.payload);
  } catch (e) {
    throw asBufferError(e, 'send buffer');
  }
}
