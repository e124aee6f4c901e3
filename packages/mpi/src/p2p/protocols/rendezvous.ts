import { MpiError, TransferError } from '../../errors.js';
import { guardBuffer } from '../buffer-errors.js';
import { Flags, Kind, type Envelope } from '../envelope.js';
import type { Arrival, Payload, Route, SendOp } from '../operations.js';
import type { EnvelopeHandler, Protocol, ProtocolHost } from '../protocol.js';

/**
 * What every rendezvous shares: the sender announces its buffer in an RTS (address, and the key the
 * receiver reads it with) and keeps it until the receiver's FIN says the data was read (or could
 * not be: Flags.ERROR). The protocols differ in the key and in how the receiver reads.
 */
export function sendRts(
  host: ProtocolHost, route: Route, op: SendOp, payload: Payload,
  key: (addr: number) => { rkey: number; flags: number },
): void {
  const { counters, clock, device, space, heap } = host.env;
  let addr: number;
  if ('bytes' in payload) {
    op.temp = heap.malloc(op.length);
    space.write(op.temp, payload.bytes);
    addr = op.temp;
  } else {
    addr = payload.addr;
    // The buffer's pages now, as a registration that pins them would: under odp, cma and xpmem
    // nothing else looks at them before the receiver does, and it is this rank's buffer that is bad.
    guardBuffer(() => space.runs(addr, op.length, 'read'), 'send buffer');
  }
  // The slot first: waiting for one runs progress, which positions the device clock elsewhere.
  const slot = host.takeSendSlot(op);
  device.set(clock.now);
  const { rkey, flags } = key(addr);
  const env = host.envelope(Kind.RTS, route.context, route.rank, op.tag, op.length);
  env.sendId = op.id;
  env.rkey = rkey;
  env.flags = flags;
  env.addr = addr;
  host.postSend(op.destWorld, slot, env);
  clock.advanceTo(device.now);
  host.awaitReceiver(op);
  counters.rendezvousSends++;
  counters.rendezvousBytesSent += op.length;
}

/** The arrival an RTS becomes, delivered by `protocol` once matched. */
export function rtsArrival(protocol: Protocol, env: Envelope, time: number, from: number): Arrival {
  return {
    protocol, context: env.context, source: env.source, tag: env.tag, length: env.length, time, fromWorld: from,
    flags: env.flags, rkey: env.rkey, addr: env.addr, sendId: env.sendId,
  };
}

/**
 * Receiver side: tell the sender its buffer is free again (flags 0) or the message could not be
 * received (Flags.ERROR; with Flags.RECEIVER, because of the receiver's own buffer), at `time`.
 */
export function sendFin(host: ProtocolHost, a: Arrival, flags: number, time: number): void {
  host.env.device.set(time);
  const env = host.envelope(Kind.FIN, a.context, a.source, a.tag, 0);
  env.flags = flags;
  env.sendId = a.sendId!;
  host.postControl(a.fromWorld, env);
}

/** The sender's error for a FIN with Flags.ERROR: whose buffer was at fault (Flags.RECEIVER: the receiver's). */
export function finFailure(op: SendOp, flags: number): TransferError {
  const why = flags & Flags.RECEIVER
    ? `could not receive the ${op.length}-byte message (tag ${op.tag}): its receive buffer is not valid memory or could ` +
      `not be registered there (rank ${op.dest}'s receive failed with the reason); this rank's send buffer was not at fault`
    : `could not read the ${op.length}-byte message (tag ${op.tag}) from this rank's buffer`;
  return new TransferError('REMOTE', `rank ${op.dest} ${why}`);
}

/** Sender side of every rendezvous: the FIN that ends a send. */
export class FinHandler implements EnvelopeHandler {
  constructor(private readonly host: ProtocolHost) {}

  accepts(env: Envelope): boolean {
    return env.kind === Kind.FIN;
  }

  onEnvelope(env: Envelope, _payload: Uint8Array, time: number): void {
    const op = this.host.pendingSend(env.sendId);
    if (!op) throw new MpiError('MPI_ERR_INTERN', `FIN for unknown send ${env.sendId}`);
    this.host.env.device.set(time);
    if (env.flags & Flags.ERROR) {
      this.host.failSend(op, finFailure(op, env.flags), time);
      return;
    }
    this.host.completeSend(op, time);
  }
}
