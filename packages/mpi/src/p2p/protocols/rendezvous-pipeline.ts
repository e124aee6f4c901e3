import { MpiError, TransferError } from '../../errors.js';
import { DEFAULT_PIPELINE_CHUNK, type RndvSetting } from '../../options.js';
import type { Status } from '../../status.js';
import { asBufferError, guardBuffer, landingFault } from '../buffer-errors.js';
import { Flags, Kind, type Envelope } from '../envelope.js';
import { decodeObject } from '../object-codec.js';
import type { Arrival, Payload, RecvOp, Route, SendOp } from '../operations.js';
import type { RegistrationPort } from '../ports.js';
import type { Protocol, ProtocolHost } from '../protocol.js';
import { finFailure, rtsArrival, sendRts } from './rendezvous.js';
import { USER_BUFFER_ACCESS, type RendezvousRdmaProtocol } from './rendezvous-rdma.js';

/** Chunks a sender keeps announced (registered) at once: ob1's pipeline depth. */
export const PIPELINE_DEPTH = 4;
const AUTO: RndvSetting = { mode: 'auto', chunk: DEFAULT_PIPELINE_CHUNK };

/** The sender's side of one pipelined message: chunks announced and not yet read, and what is left. */
interface Outgoing {
  op: SendOp;
  route: Route;
  end: number;
  next: number;
  acked: number;
  held: Map<number, RegistrationPort>;
}

/** The receiver's side: chunk announcements that came before the match, then the reads. */
interface Incoming {
  recv?: { op: RecvOp; a: Arrival; status: Status; landing: number; temp: number | undefined };
  early: { addr: number; rkey: number; length: number; time: number }[];
  got: number;
  dead: boolean;
  /** the sender could not announce a chunk before the match: the receive fails once matched */
  error?: Error;
}

/**
 * Pipelined rendezvous over the adapter (Open MPI ob1's pipeline protocol): the sender registers its
 * buffer a chunk at a time and keeps at most PIPELINE_DEPTH chunks announced; the RTS carries chunk 0,
 * each further chunk goes in an RTS|CHUNK announcement. The receiver registers the landing chunk,
 * RDMA-reads it, releases it and answers a chunk FIN, on which the sender releases its chunk and
 * announces the next. So a message of any size moves within a few chunks of locked memory per side.
 * Under 'auto' a send first tries to register the whole buffer (the cache evicts unused regions to
 * make room) and goes by the whole-buffer rendezvous when that fits; only ENOMEM turns it to chunks.
 */
export class RendezvousPipelineProtocol implements Protocol {
  readonly name = 'rendezvous-pipeline';
  private readonly outgoing = new Map<number, Outgoing>();
  private readonly incoming = new Map<number, Incoming>();

  constructor(
    private readonly host: ProtocolHost,
    private readonly whole: RendezvousRdmaProtocol,
  ) {}

  private get setting(): RndvSetting {
    return this.host.env.rndv ?? AUTO;
  }

  accepts(env: Envelope): boolean {
    return (env.kind === Kind.RTS || env.kind === Kind.FIN) && (env.flags & Flags.PIPELINE) !== 0;
  }

  send(route: Route, op: SendOp, payload: Payload, status: Status): void {
    const { mode, chunk } = this.setting;
    // a persistent send holds one whole registration from its first start: the whole rendezvous
    if (mode === 'whole' || (mode === 'auto' && op.held)) return this.whole.send(route, op, payload);
    const { cache } = this.host.env;
    let piped: Outgoing | undefined;
    sendRts(this.host, route, op, payload, (addr) => {
      if (mode === 'auto') {
        try {
          op.reg = cache.acquire(addr, op.length, USER_BUFFER_ACCESS);
          return { rkey: op.reg.handle.rkey, flags: 0 };
        } catch (e) {
          if ((e as { code?: unknown }).code !== 'ENOMEM') throw asBufferError(e, 'send buffer');
        }
      }
      piped = { op, route, end: addr + op.length, next: addr, acked: 0, held: new Map() };
      const length = this.chunkEnd(addr, piped.end) - addr;
      const reg = guardBuffer(() => cache.acquire(addr, length, USER_BUFFER_ACCESS), 'send buffer');
      piped.held.set(addr, reg);
      piped.next = addr + length;
      return { rkey: reg.handle.rkey, flags: Flags.PIPELINE };
    });
    if (!piped) return;
    const out: Outgoing = piped;
    this.outgoing.set(op.id, out);
    const { clock, device } = this.host.env;
    device.set(clock.now);
    while (out.held.size < PIPELINE_DEPTH && out.next < out.end && this.outgoing.has(op.id)) this.announce(out);
    clock.advanceTo(device.now);
  }

  /** Registers the next chunk and tells the receiver where it is (at the device clock's time). */
  private announce(out: Outgoing): void {
    const { cache } = this.host.env;
    const addr = out.next;
    const length = this.chunkEnd(addr, out.end) - addr;
    const env = this.host.envelope(Kind.RTS, out.route.context, out.route.rank, out.op.tag, length);
    env.sendId = out.op.id;
    env.addr = addr;
    env.flags = Flags.PIPELINE | Flags.CHUNK;
    try {
      const reg = cache.acquire(addr, length, USER_BUFFER_ACCESS);
      out.held.set(addr, reg);
      out.next = addr + length;
      env.rkey = reg.handle.rkey;
    } catch (e) {
      // the receiver waits for this chunk: tell it the message is off, then fail the send
      env.flags |= Flags.ERROR;
      this.host.postControl(out.op.destWorld, env);
      this.endSend(out, asBufferError(e, 'send buffer'));
      return;
    }
    this.host.postControl(out.op.destWorld, env);
  }

  private get pageSize(): number {
    return this.host.env.space.pageSize ?? 4096;
  }

  /**
   * Where the chunk from `addr` ends: `chunk` bytes on, cut back to a page boundary (or the message's
   * end). Chunks then never share a page, so the cache never merges one chunk's region into the next
   * one's (a merge would register their union while both are held: more than PIPELINE_DEPTH chunks
   * of locked memory). Both sides compute chunk 0's end this way (same --rndv, same page size).
   */
  private chunkEnd(addr: number, end: number): number {
    const ps = this.pageSize;
    return Math.min(end, Math.floor((addr + this.setting.chunk) / ps) * ps);
  }

  onEnvelope(env: Envelope, _payload: Uint8Array, time: number, from: number): void {
    if (env.kind === Kind.FIN) return this.onChunkFin(env, time);
    if ((env.flags & Flags.CHUNK) === 0) {
      this.incoming.set(key(from, env.sendId), { early: [], got: 0, dead: false });
      return this.host.arrive(rtsArrival(this, env, time, from));
    }
    const inc = this.incoming.get(key(from, env.sendId));
    if (!inc || inc.dead) return;
    if (env.flags & Flags.ERROR) {
      this.failRecv(inc, new TransferError('REMOTE', `rank ${from} could not register the rest of its message`), time, false);
      return;
    }
    if (!inc.recv) inc.early.push({ addr: env.addr, rkey: env.rkey, length: env.length, time });
    else this.readChunk(inc, env.addr, env.rkey, env.length, time);
  }

  /** Sender side: a chunk was read (release it, announce the next), or the receiver gave up. */
  private onChunkFin(env: Envelope, time: number): void {
    const out = this.outgoing.get(env.sendId);
    if (!out) return; // a send already ended (failed) still hears about chunks in flight
    const { device, cache } = this.host.env;
    device.set(time);
    if (env.flags & Flags.ERROR) {
      this.endSend(out, finFailure(out.op, env.flags));
      return;
    }
    if (env.length === 0) return this.endSend(out); // the receive was too small for it: nothing more to send
    const reg = out.held.get(env.addr);
    if (!reg) throw new MpiError('MPI_ERR_INTERN', `chunk FIN for unannounced chunk 0x${env.addr.toString(16)} of send ${env.sendId}`);
    out.held.delete(env.addr);
    cache.release(reg);
    out.acked += env.length;
    if (out.acked === out.op.length) return this.endSend(out);
    if (out.next < out.end) this.announce(out);
  }

  private endSend(out: Outgoing, error?: Error): void {
    const { cache, device } = this.host.env;
    this.outgoing.delete(out.op.id);
    for (const reg of out.held.values()) cache.release(reg);
    out.held.clear();
    if (error) this.host.failSend(out.op, error, device.now);
    else this.host.completeSend(out.op, device.now);
  }

  /** Receiver side: the message matched; read chunk 0 and every chunk announced meanwhile. */
  receive(recv: RecvOp, a: Arrival, status: Status, start: number): void {
    const { device, heap, costs } = this.host.env;
    const inc = this.incoming.get(key(a.fromWorld, a.sendId!))!;
    device.set(start);
    device.advance(costs.overheadUs);
    const temp = recv.target === 'object' ? heap.malloc(a.length) : undefined;
    const landing = temp ?? (recv.target as { addr: number }).addr;
    inc.recv = { op: recv, a, status, landing, temp };
    if (inc.error) return this.failRecv(inc, inc.error, device.now, false);
    // the landing first (buffer-errors.ts): a read's local error would be fatal for the queue pair
    const bad = landingFault(this.host.env.space, landing, a.length);
    if (bad !== undefined) return this.failRecv(inc, bad, device.now, true, Flags.RECEIVER);
    const at = device.now;
    this.readChunk(inc, a.addr!, a.rkey!, this.chunkEnd(a.addr!, a.addr! + a.length) - a.addr!, at);
    for (const c of inc.early.splice(0)) this.readChunk(inc, c.addr, c.rkey, c.length, Math.max(at, c.time));
  }

  /**
   * Reads one announced chunk into the landing buffer. The landing chunk is cut at the receiver's own
   * page boundaries into a head and a tail (each within one page, which the neighbouring chunk's
   * tail or head registers identically: a cache hit, never a merge) and a page-aligned middle; each
   * piece is registered, read and released on its own.
   */
  private readChunk(inc: Incoming, addr: number, rkey: number, length: number, time: number): void {
    if (inc.dead) return;
    const { device, cache, counters } = this.host.env;
    const r = inc.recv!;
    device.set(time);
    const l0 = r.landing + (addr - r.a.addr!);
    const pieces = landingPieces(l0, l0 + length, this.pageSize);
    const chunk = { addr, length, left: pieces.length };
    for (const [p0, p1] of pieces) {
      let reg: RegistrationPort;
      try {
        reg = cache.acquire(p0, p1 - p0, USER_BUFFER_ACCESS);
      } catch (e) {
        this.failRecv(inc, asBufferError(e, 'receive buffer'), device.now, true, Flags.RECEIVER);
        return;
      }
      counters.rdmaReads++;
      this.host.postRead(r.a.fromWorld, { lkey: reg.handle.lkey, landing: p0, length: p1 - p0, remoteAddr: addr + (p0 - l0), rkey }, (st, t) =>
        this.pieceRead(inc, chunk, reg, st, t),
      );
    }
  }

  private pieceRead(
    inc: Incoming, chunk: { addr: number; length: number; left: number }, reg: RegistrationPort, adapterStatus: number, time: number,
  ): void {
    const { device, cache, space, heap } = this.host.env;
    const r = inc.recv!;
    device.set(time);
    if (inc.dead || adapterStatus !== 0) cache.release(reg);
    if (inc.dead) return;
    if (adapterStatus !== 0) {
      const e = new TransferError(String(adapterStatus), `RDMA read of a ${chunk.length}-byte chunk from rank ${r.a.source} failed: the sender's registration no longer covers its buffer`);
      this.failRecv(inc, e, device.now, true);
      return;
    }
    // as in the whole rendezvous, the chunk's FIN leaves before the piece is deregistered
    if (--chunk.left === 0) {
      inc.got += chunk.length;
      this.chunkFin(r.a, chunk.addr, chunk.length, 0, time);
    }
    device.set(time);
    cache.release(reg);
    if (chunk.left > 0 || inc.got < r.a.length) return;
    this.incoming.delete(key(r.a.fromWorld, r.a.sendId!));
    const status = { ...r.status, byteCount: r.a.length, count: countOf(r.op, r.a.length) };
    if (r.temp !== undefined) {
      decodeObject(r.op.req, space.read(r.temp, r.a.length), status, device.now);
      heap.free(r.temp);
    }
    r.op.req.complete(status, device.now);
  }

  /** `fault` Flags.RECEIVER: the receiver's own buffer is at fault (the sender's error says so). */
  private failRecv(inc: Incoming, error: Error, time: number, tellSender: boolean, fault = 0): void {
    inc.dead = true;
    const r = inc.recv;
    if (!r) {
      inc.error = error; // not matched yet: the arrival stays queued and fails once a receive takes it
      return;
    }
    this.incoming.delete(key(r.a.fromWorld, r.a.sendId!));
    if (r.temp !== undefined) this.host.env.heap.free(r.temp);
    const length = r.a.length;
    r.op.req.fail(error, time, { ...r.status, byteCount: length, count: countOf(r.op, length) });
    if (tellSender) this.chunkFin(r.a, 0, 0, Flags.ERROR | fault, time);
  }

  private chunkFin(a: Arrival, addr: number, length: number, flags: number, time: number): void {
    this.host.env.device.set(time);
    const env = this.host.envelope(Kind.FIN, a.context, a.source, a.tag, length);
    env.flags = Flags.PIPELINE | flags;
    env.sendId = a.sendId!;
    env.addr = addr;
    this.host.postControl(a.fromWorld, env);
  }

  /** A receive too small for the message (it already failed): the sender lets go of its chunks. */
  drop(a: Arrival, start: number): void {
    const inc = this.incoming.get(key(a.fromWorld, a.sendId!));
    if (inc) inc.dead = true;
    this.incoming.delete(key(a.fromWorld, a.sendId!));
    this.chunkFin(a, 0, 0, 0, start);
  }
}

function key(fromWorld: number, sendId: number): number {
  return fromWorld * 2 ** 32 + sendId;
}

/** [start, end) cut at page boundaries into a head and a tail page (when unaligned) and an aligned middle. */
export function landingPieces(start: number, end: number, pageSize: number): [number, number][] {
  const up = Math.min(end, Math.ceil(start / pageSize) * pageSize);
  const down = Math.max(up, Math.floor(end / pageSize) * pageSize);
  const cuts = [start, up, down, end].filter((c, i, a) => i === 0 || c > a[i - 1]!);
  return cuts.slice(1).map((c, i) => [cuts[i]!, c] as [number, number]);
}

function countOf(recv: RecvOp, bytes: number): number {
  return recv.target === 'object' ? bytes : Math.floor(bytes / recv.target.elementSize);
}
