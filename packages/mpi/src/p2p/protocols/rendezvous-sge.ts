import type { Status } from '../../status.js';
import { asBufferError, guardBuffer, sendBufferName } from '../buffer-errors.js';
import { ENVELOPE_BYTES, Flags, Kind, type Envelope } from '../envelope.js';
import { decodeObject } from '../object-codec.js';
import type { Arrival, Payload, Range, RecvOp, Route, SendOp } from '../operations.js';
import type { RegistrationPort } from '../ports.js';
import type { Protocol, ProtocolHost } from '../protocol.js';
import { planReads } from '../sge-plan.js';
import { rtsArrival, sendFin } from './rendezvous.js';
import { USER_BUFFER_ACCESS, failRead } from './rendezvous-rdma.js';

/**
 * Scatter/gather rendezvous for a non-contiguous send (p2p/noncontig.ts has the rule): no copies.
 * The sender registers the span of its data once (through the cache) and sends an RTS whose payload
 * lists its segments; the receiver registers its landing — its own non-contiguous layout when the
 * receive has one, else the contiguous buffer — and RDMA-reads each sender segment into it, a read
 * per segment with a scatter/gather list of at most maxSge local pieces; FIN once all are in.
 */
export class RendezvousSgeProtocol implements Protocol {
  readonly name = 'rendezvous-sge';

  constructor(private readonly host: ProtocolHost, private readonly maxSge: () => number) {}

  accepts(env: Envelope): boolean {
    return env.kind === Kind.RTS && (env.flags & Flags.SGE) !== 0;
  }

  send(route: Route, op: SendOp, payload: Payload): void {
    const { counters, clock, device, space, cache } = this.host.env;
    if ('bytes' in payload || payload.gather === undefined) throw new Error('rendezvous-sge: expects a non-contiguous buffer');
    const { span, segments } = payload.gather;
    // the pages now, as the registration that pins them would see them (a bad buffer is this rank's)
    guardBuffer(() => space.runs(span.addr, span.length, 'read'), 'send buffer');
    const slot = this.host.takeSendSlot(op);
    device.set(clock.now);
    const reg = op.held?.reg ?? guardBuffer(() => cache.acquire(span.addr, span.length, USER_BUFFER_ACCESS), sendBufferName(op));
    if (op.held) op.held.reg = reg;
    op.reg = reg;
    const frame = new Uint8Array(ENVELOPE_BYTES + segments.length * 8);
    const list = new DataView(frame.buffer, ENVELOPE_BYTES);
    segments.forEach((s, i) => {
      list.setUint32(i * 8, s.addr - span.addr, true);
      list.setUint32(i * 8 + 4, s.length, true);
    });
    const env = this.host.envelope(Kind.RTS, route.context, route.rank, op.tag, op.length);
    env.sendId = op.id;
    env.rkey = reg.handle.rkey;
    env.flags = Flags.SGE;
    env.addr = span.addr;
    this.host.postSend(op.destWorld, slot, env, frame);
    clock.advanceTo(device.now);
    this.host.awaitReceiver(op);
    counters.rendezvousSends++;
    counters.rendezvousBytesSent += op.length;
    counters.sgeSends++;
  }

  onEnvelope(env: Envelope, payload: Uint8Array, time: number, from: number): void {
    const list = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    const remoteSegments: Range[] = [];
    for (let at = 0; at + 8 <= payload.byteLength; at += 8) {
      remoteSegments.push({ addr: list.getUint32(at, true), length: list.getUint32(at + 4, true) });
    }
    this.host.arrive({ ...rtsArrival(this, env, time, from), remoteSegments });
  }

  receive(recv: RecvOp, a: Arrival, status: Status, start: number): void {
    const { device, cache, heap, costs, counters } = this.host.env;
    device.set(start);
    device.advance(costs.overheadUs);
    const t = recv.target;
    const temp = t === 'object' ? heap.malloc(Math.max(1, a.length)) : undefined;
    const direct = t !== 'object' ? t.direct : undefined;
    const landing: Range = direct?.span ?? { addr: temp ?? (t as { addr: number }).addr, length: a.length };
    const local: readonly Range[] = direct?.segments ?? [landing];
    let reg: RegistrationPort;
    try {
      reg = cache.acquire(landing.addr, landing.length, USER_BUFFER_ACCESS);
    } catch (e) {
      if (temp !== undefined) heap.free(temp);
      recv.req.fail(asBufferError(e, 'receive buffer'), device.now, status);
      sendFin(this.host, a, Flags.ERROR | Flags.RECEIVER, device.now);
      return;
    }
    const remote = a.remoteSegments!.map((s) => ({ addr: a.addr! + s.addr, length: s.length }));
    const reads = planReads(remote, local, this.maxSge());
    const lkey = reg.handle.lkey;
    let left = reads.length;
    let failure = 0;
    const finish = (time: number): void => {
      device.set(time);
      if (failure !== 0) return this.failed(recv, a, reg, temp, failure, status);
      // FIN first, then deregister (as the whole-buffer rendezvous does)
      sendFin(this.host, a, 0, time);
      device.set(time);
      cache.release(reg);
      if (direct) direct.landed = true;
      if (temp !== undefined) {
        decodeObject(recv.req, this.host.env.space.read(temp, a.length), status, device.now);
        heap.free(temp);
      }
      recv.req.complete(status, device.now);
    };
    if (reads.length === 0) return finish(device.now);
    for (const r of reads) {
      counters.rdmaReads++;
      counters.sgeSegments += r.pieces.length;
      const sgl = r.pieces.length > 1 ? r.pieces.map((p) => ({ lkey, addr: p.addr, length: p.length })) : undefined;
      const first = r.pieces[0]!;
      this.host.postRead(
        a.fromWorld,
        { lkey, landing: first.addr, length: r.length, remoteAddr: r.remoteAddr, rkey: a.rkey!, ...(sgl ? { sgl } : {}) },
        (st, time) => {
          if (st !== 0 && failure === 0) failure = st;
          if (--left === 0) finish(time);
        },
      );
    }
  }

  private failed(recv: RecvOp, a: Arrival, reg: RegistrationPort, temp: number | undefined, adapterStatus: number, status: Status): void {
    const { cache, heap } = this.host.env;
    cache.release(reg);
    if (temp !== undefined) heap.free(temp);
    failRead(this.host, recv, a, adapterStatus, status);
  }

  drop(a: Arrival, start: number): void {
    sendFin(this.host, a, 0, start);
  }
}
