import { Access, Status as WcStatus, statusName } from '@tsmpi/fabric';
import { TransferError } from '../../errors.js';
import type { RegistrationPort } from '../ports.js';
import type { Status } from '../../status.js';
import { asBufferError, guardBuffer, landingFault, receiveBufferFault, sendBufferName } from '../buffer-errors.js';
import { Flags, Kind, type Envelope } from '../envelope.js';
import { decodeObject } from '../object-codec.js';
import type { Arrival, Payload, RecvOp, Route, SendOp } from '../operations.js';
import type { Protocol, ProtocolHost } from '../protocol.js';
import { rtsArrival, sendFin, sendRts } from './rendezvous.js';

/** User buffers are registered for everything (as UCX does), so one registration serves both directions. */
export const USER_BUFFER_ACCESS = Access.LOCAL_WRITE | Access.REMOTE_WRITE | Access.REMOTE_READ;

/**
 * Rendezvous over the adapter: the sender registers its buffer (through the registration cache)
 * and sends an RTS with the rkey; the receiver registers its landing buffer, RDMA-reads the data,
 * and answers FIN. Zero copy; the registrations are what the rcache study is about.
 */
export class RendezvousRdmaProtocol implements Protocol {
  readonly name = 'rendezvous-rdma';

  constructor(private readonly host: ProtocolHost) {}

  accepts(env: Envelope): boolean {
    return env.kind === Kind.RTS && (env.flags & (Flags.CMA | Flags.XPMEM)) === 0;
  }

  send(route: Route, op: SendOp, payload: Payload): void {
    const { cache } = this.host.env;
    sendRts(this.host, route, op, payload, (addr) => {
      // a persistent send registers its buffer once, at its first start, and keeps it until free()
      const reg = op.held?.reg ?? guardBuffer(() => cache.acquire(addr, op.length, USER_BUFFER_ACCESS), sendBufferName(op));
      if (op.held) op.held.reg = reg;
      op.reg = reg;
      return { rkey: reg.handle.rkey, flags: 0 };
    });
  }

  onEnvelope(env: Envelope, _payload: Uint8Array, time: number, from: number): void {
    this.host.arrive(rtsArrival(this, env, time, from));
  }

  /** Receiver side: register the landing buffer, RDMA-read the sender's buffer. */
  receive(recv: RecvOp, a: Arrival, status: Status, start: number): void {
    const { device, cache, heap, costs, counters } = this.host.env;
    // (The adapter serializes the bytes of concurrent transfers on its ports; nothing to add here.)
    device.set(start);
    device.advance(costs.overheadUs);
    const temp = recv.target === 'object' ? heap.malloc(a.length) : undefined;
    const landing = temp ?? (recv.target as { addr: number }).addr;
    let reg: RegistrationPort;
    try {
      // the landing first (buffer-errors.ts): a read's local error would be fatal for the queue pair
      const bad = landingFault(this.host.env.space, landing, a.length);
      if (bad !== undefined) throw bad;
      reg = cache.acquire(landing, a.length, USER_BUFFER_ACCESS);
    } catch (e) {
      if (temp !== undefined) heap.free(temp);
      recv.req.fail(asBufferError(e, 'receive buffer'), device.now, status);
      sendFin(this.host, a, Flags.ERROR | Flags.RECEIVER, device.now);
      return;
    }
    counters.rdmaReads++;
    this.host.postRead(
      a.fromWorld,
      { lkey: reg.handle.lkey, landing, length: a.length, remoteAddr: a.addr!, rkey: a.rkey! },
      (st, time) => this.readDone(recv, a, reg, temp, st, time),
    );
  }

  private readDone(recv: RecvOp, a: Arrival, reg: RegistrationPort, temp: number | undefined, adapterStatus: number, time: number): void {
    const { device, cache, space, heap } = this.host.env;
    device.set(time);
    const status: Status = {
      source: a.source, tag: a.tag, byteCount: a.length,
      count: recv.target === 'object' ? a.length : Math.floor(a.length / recv.target.elementSize),
    };
    if (adapterStatus !== 0) {
      cache.release(reg);
      if (temp !== undefined) heap.free(temp);
      failRead(this.host, recv, a, adapterStatus, status);
      return;
    }
    // FIN first, then deregister (Open MPI ob1: the rget completion sends FIN, then
    // recv_request_pml_complete deregisters): the sender's buffer is free without waiting for ours
    sendFin(this.host, a, 0, time);
    device.set(time);
    cache.release(reg);
    if (temp !== undefined) {
      decodeObject(recv.req, space.read(temp, a.length), status, device.now);
      heap.free(temp);
    }
    recv.req.complete(status, device.now);
  }

  drop(a: Arrival, start: number): void {
    sendFin(this.host, a, 0, start);
  }
}

/**
 * A receiver's RDMA read of `a` completed with an error: the receive fails and the sender hears FIN
 * with ERROR. A local error is the landing's (under odp nothing checked it before the read), a
 * remote one the sender's (its registration no longer covers its buffer).
 */
export function failRead(host: ProtocolHost, recv: RecvOp, a: Arrival, adapterStatus: number, status: Status): void {
  const now = host.env.device.now;
  const local = adapterStatus === WcStatus.LOCAL_PROTECTION_ERROR || adapterStatus === WcStatus.LOCAL_LENGTH_ERROR;
  recv.req.fail(
    local
      ? receiveBufferFault(`the RDMA read into it completed ${statusName(adapterStatus)}`)
      : new TransferError(String(adapterStatus), `RDMA read of ${a.length} bytes from rank ${a.source} failed: the sender's registration no longer covers its buffer`),
    now, status,
  );
  sendFin(host, a, local ? Flags.ERROR | Flags.RECEIVER : Flags.ERROR, now);
}
