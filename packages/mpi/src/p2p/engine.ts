import { ANY_TAG, PROC_NULL } from '../constants.js';
import { InvalidBuffer, JobAborted, MemlockExhausted, MpiError, TransferError, TruncationError } from '../errors.js';
import { ControlBlock, WaitKind, type WaitDescription } from '../launcher/control-block.js';
import { Request, completedRequest, type Progress } from '../request.js';
import type { MessageCounters } from '../stats.js';
import type { Status } from '../status.js';
import type {
  ClockPort, CqPort, MessageCosts, QpPort, RecvQueuePort, RegistrationPort, RegistrationProviderPort, SpacePort,
} from '../rank/ports.js';
import { BouncePool } from './bounce.js';
import { ENVELOPE_BYTES, Flags, Kind, decodeEnvelope, encodeEnvelope, type Envelope } from './envelope.js';
import type { IntraPath, IntraRoute, ShmIncoming } from './intra.js';
import { MatchQueues, type MatchKey } from './matching.js';
import { packObject, unpackObject } from './object-codec.js';

/** IBV_ACCESS_LOCAL_WRITE | REMOTE_WRITE | REMOTE_READ: user buffers are registered for everything (as UCX does), so one registration serves both directions. */
export const ACCESS_ALL = 7;

/** A communicator as the engine sees it: its context, the caller's rank in it, and rank → world rank. */
export interface Route {
  readonly context: number;
  readonly rank: number;
  readonly size: number;
  world(rank: number): number;
}

/** The device clock: the protection domain's clock, positioned by the engine before each operation. */
export interface DeviceClock extends ClockPort {
  set(t: number): void;
}

export interface EngineEnv {
  rank: number;
  size: number;
  space: SpacePort;
  heap: { malloc(n: number): number; free(p: number): void };
  clock: ClockPort;
  device: DeviceClock;
  cq: CqPort;
  srq: RecvQueuePort;
  qps: readonly (QpPort | undefined)[];
  pool: BouncePool;
  cache: RegistrationProviderPort;
  ctrl: ControlBlock;
  costs: MessageCosts;
  eagerThreshold: number;
  counters: MessageCounters;
  /** intra-node transports (issue 7); absent with --intra rdma */
  intra?: IntraPath;
  /** Progress polls before sleeping on the completion queue's doorbell. */
  spins: number;
}

/** A buffer in the rank's simulated memory, or bytes an object message carries. */
export type Payload = { addr: number; length: number } | { bytes: Uint8Array };
/** Where a receive lands: a buffer (capacity in bytes) or 'object' (sized on arrival, never truncates). */
export type Target = { addr: number; capacity: number; elementSize: number } | 'object';

interface SendOp {
  req: Request;
  id: number;
  destWorld: number;
  dest: number;
  tag: number;
  length: number;
  reg?: RegistrationPort;
  temp?: number;
}

interface RecvOp extends MatchKey {
  req: Request;
  target: Target;
  postTime: number;
}

/** A message that reached this rank, waiting in the unexpected queue or being matched. */
export interface Arrival extends MatchKey {
  kind: 'eager' | 'rts' | 'self' | 'shm';
  length: number;
  time: number;
  fromWorld: number;
  data?: Uint8Array;
  rkey?: number;
  addr?: number;
  sendId?: number;
  selfSend?: { op: SendOp; addr: number };
  /** RTS: Flags.CMA / Flags.XPMEM select a single-copy read */
  flags?: number;
  /** shm: the payload still coming through the ring */
  shm?: ShmIncoming;
}

interface PendingRead {
  recv: RecvOp;
  arrival: Arrival;
  reg: RegistrationPort | undefined;
  landing: number; // address the data lands at (the user buffer, or a temp for object receives)
  temp?: number;
}

const WR_RECV = 0, WR_SEND = 1, WR_READ = 2;
// How long a blocking call polls before sleeping on the doorbell. Spinning wins when every rank has
// a core (a ping-pong partner answers within microseconds, a futex wake-up costs tens); with more
// ranks than cores it steals the core from the rank that would answer, so the launcher says which
// case this is (EngineEnv.spins). Measured on a shared 2-core box (8 B ping-pong): with both ranks on
// a core, 0 µs of spin gave 41 µs one-way and 20-200 µs gave 4.8-5.4 µs; with other processes
// holding the cores, a fixed 50 µs spin gave 68 µs (the spinner steals the core its peer needs)
// and no spin 12-18 µs. So the budget (at most SPIN_US_DEDICATED) adapts per rank: see waitUntil.
// Either way a rank that waits long sleeps: waiting does not burn a core.
export const SPINS_DEDICATED = 100_000;
export const SPINS_OVERSUBSCRIBED = 20;
export const SPIN_US_DEDICATED = 50;
const WAIT_SLICE_MS = 25;
// With intra-node rings, a blocked rank sleeps on its ring doorbell (a peer's push wakes it at once)
// and looks at the completion queue between slices this short.
const INTRA_SLICE_MS = 1;

/**
 * The point-to-point engine of one rank: matching, the eager and rendezvous protocols over the
 * adapter, and progress. Everything runs on the rank's own thread; blocking calls spin briefly on
 * the completion queue, then sleep on its doorbell (Atomics.wait) in short slices that check the
 * job's abort flag.
 */
export class Engine implements Progress {
  readonly queues = new MatchQueues<RecvOp, Arrival>();
  private readonly env: EngineEnv;
  private readonly pendingSends = new Map<number, SendOp>();
  private readonly pendingReads = new Map<number, PendingRead>();
  private readonly sendSlotOwner = new Map<number, true>();
  /** Control envelopes waiting for a free send slot, with the virtual time they were due. */
  private readonly backlog: { destWorld: number; env: Envelope; time: number }[] = [];
  private readonly nextSeqOut: number[];
  private readonly nextSeqIn: number[];
  private readonly stash: Map<number, { env: Envelope; payload: Uint8Array; time: number }>[];
  private nextId = 1;
  private progressing = false;
  /** The CQ doorbell value read before the last poll that found nothing. */
  private quietBell = -1;
  /** Current spin budget of blocking waits (µs), adapted by waitUntil. */
  private spinUs = SPIN_US_DEDICATED;
  private waitsStarted = 0;
  /** shm envelopes read from a ring, waiting for their turn in sequence order: `from:seq` → payload state */
  private readonly shmIncoming = new Map<string, ShmIncoming>();

  constructor(env: EngineEnv) {
    this.env = env;
    this.nextSeqOut = new Array(env.size).fill(0);
    this.nextSeqIn = new Array(env.size).fill(0);
    this.stash = Array.from({ length: env.size }, () => new Map());
    for (let i = 0; i < env.pool.recvSlots; i++) this.postRecvSlot(i);
  }

  /**
   * Posts a bounce slot at virtual time 0. The slot pool stands for MPI's credit-managed eager
   * buffers, which are deep enough that a receiver-not-ready never happens on real hardware; the
   * pool here is small, so a send may really wait for a slot (parked by the adapter, delivered by
   * this post), but that wait is an artifact of the simulation and must cost no virtual time:
   * a receive posted "at 0" makes the adapter deliver a parked send at its own arrival time.
   */
  private postRecvSlot(i: number): void {
    const { pool, device, srq } = this.env;
    device.set(0);
    srq.postRecv({ wrId: i * 4 + WR_RECV, sge: { lkey: pool.lkey, addr: pool.recvSlotAddr(i), length: pool.slotBytes } });
  }

  get eagerThreshold(): number {
    return this.env.eagerThreshold;
  }

  // ───────────────────────────── sending ─────────────────────────────

  isend(route: Route, dest: number, tag: number, payload: Payload): Request {
    const { counters, clock } = this.env;
    const length = 'bytes' in payload ? payload.bytes.length : payload.length;
    const req = this.newRequest('send', dest, tag);
    if (dest === PROC_NULL) {
      counters.procNullOps++;
      req.complete({ source: PROC_NULL, tag: ANY_TAG, count: 0, byteCount: 0 }, clock.now);
      return req;
    }
    const destWorld = route.world(dest);
    const op: SendOp = { req, id: this.nextId++, destWorld, dest, tag, length };
    const sendStatus: Status = { source: route.rank, tag, count: 0, byteCount: length };
    const path: IntraRoute = destWorld === this.env.rank ? 'adapter' : (this.env.intra?.route(destWorld, length) ?? 'adapter');
    if (destWorld === this.env.rank) {
      this.selfSend(route, op, payload, sendStatus);
    } else if (path === 'shm') {
      this.shmSend(route, op, payload, sendStatus);
    } else if (length < this.env.eagerThreshold || length === 0) {
      this.eagerSend(route, op, payload, sendStatus);
    } else {
      this.rendezvousSend(route, op, payload, path);
    }
    this.env.ctrl.noteActivity();
    return req;
  }

  private selfSend(route: Route, op: SendOp, payload: Payload, status: Status): void {
    const { counters, clock, space, costs } = this.env;
    counters.selfSends++;
    const arrival: Arrival = {
      kind: 'self', context: route.context, source: route.rank, tag: op.tag, length: op.length, time: clock.now, fromWorld: this.env.rank,
    };
    if ('bytes' in payload) {
      arrival.data = payload.bytes;
      op.req.complete(status, clock.now);
    } else if (op.length < this.env.eagerThreshold) {
      // Buffered like an eager send: the sender may reuse its buffer at once.
      arrival.data = this.guard(() => space.read(payload.addr, payload.length), 'send buffer');
      clock.advance(copyUs(costs, op.length));
      op.req.complete(status, clock.now);
    } else {
      // Large self-send: synchronous, the copy happens when the receive matches (MPICH does the same).
      arrival.selfSend = { op, addr: payload.addr };
      this.pendingSends.set(op.id, op);
    }
    this.arrive(arrival);
  }

  private eagerSend(route: Route, op: SendOp, payload: Payload, status: Status): void {
    const { counters, clock, device, costs, space } = this.env;
    // the user's bytes first: a bad buffer throws before a slot or a sequence number is taken
    const frame = new Uint8Array(ENVELOPE_BYTES + op.length);
    if ('bytes' in payload) frame.set(payload.bytes, ENVELOPE_BYTES);
    else if (op.length > 0) frame.set(this.guard(() => space.read(payload.addr, op.length), 'send buffer'), ENVELOPE_BYTES);
    const slot = this.takeSendSlot(op);
    const addr = this.env.pool.sendSlotAddr(slot);
    const env = this.envelope(Kind.EAGER, route.context, route.rank, op.tag, op.length, op.destWorld);
    env.seq = this.nextSeqOut[op.destWorld]!; // post() takes exactly this one
    encodeEnvelope(env, frame);
    space.write(addr, frame);
    device.set(clock.now);
    device.advance(copyUs(costs, op.length));
    this.post(op.destWorld, slot, frame.length, true);
    clock.advanceTo(device.now);
    counters.eagerSends++;
    counters.eagerBytesSent += op.length;
    op.req.complete(status, clock.now);
  }

  /**
   * shm (issue 7): the envelope and the payload go through the ring to the peer, copied in from
   * the send buffer; the send completes when the last byte is in the ring (buffered, like eager).
   * The sequence number is the same counter the adapter path uses, so order is kept across paths.
   */
  private shmSend(route: Route, op: SendOp, payload: Payload, status: Status): void {
    const { counters, clock, device } = this.env;
    const env = this.envelope(Kind.SHM, route.context, route.rank, op.tag, op.length, op.destWorld);
    // the sequence number is taken only once the send is accepted (a bad buffer throws before)
    env.seq = this.nextSeqOut[op.destWorld]!;
    device.set(clock.now);
    device.advance(this.env.costs.overheadUs);
    const source = 'bytes' in payload ? { bytes: payload.bytes } : { addr: payload.addr };
    this.guard(
      () => this.env.intra!.send(op.destWorld, env, source, op.length, device.now, (t) => op.req.complete(status, t)),
      'send buffer',
    );
    this.nextSeqOut[op.destWorld]!++;
    clock.advanceTo(device.now);
    counters.eagerSends++;
    counters.eagerBytesSent += op.length;
  }

  private rendezvousSend(route: Route, op: SendOp, payload: Payload, path: IntraRoute = 'adapter'): void {
    const { counters, clock, device, space, heap, cache } = this.env;
    let addr: number;
    if ('bytes' in payload) {
      op.temp = heap.malloc(op.length);
      space.write(op.temp, payload.bytes);
      addr = op.temp;
    } else {
      addr = payload.addr;
    }
    // The slot first: waiting for one runs progress, which positions the device clock elsewhere.
    const slot = this.takeSendSlot(op);
    device.set(clock.now);
    // a single-copy transport reads the buffer through the page tables: nothing to register
    if (path === 'adapter') op.reg = this.guard(() => cache.acquire(addr, op.length, ACCESS_ALL), 'send buffer');
    const env = this.envelope(Kind.RTS, route.context, route.rank, op.tag, op.length, op.destWorld);
    env.sendId = op.id;
    env.rkey = path === 'adapter' ? op.reg!.handle.rkey : path === 'xpmem' ? this.env.intra!.mySegid : 0;
    if (path === 'cma') env.flags |= Flags.CMA;
    if (path === 'xpmem') env.flags |= Flags.XPMEM;
    env.addr = addr;
    this.writeEnvelope(slot, env);
    this.post(op.destWorld, slot, ENVELOPE_BYTES);
    clock.advanceTo(device.now);
    this.pendingSends.set(op.id, op);
    counters.rendezvousSends++;
    counters.rendezvousBytesSent += op.length;
  }

  /** A free send slot; if none, progress until a send completion returns one. */
  private takeSendSlot(op: SendOp): number {
    let slot = this.env.pool.takeSendSlot();
    if (slot === undefined) {
      this.waitUntil(() => this.env.pool.freeSendSlots > 0, { kind: WaitKind.SEND, peer: op.dest, tag: op.tag, context: 0 });
      slot = this.env.pool.takeSendSlot()!;
    }
    return slot;
  }

  private envelope(kind: Envelope['kind'], context: number, source: number, tag: number, length: number, destWorld: number): Envelope {
    void destWorld;
    return { kind, flags: 0, from: this.env.rank, context, source, tag, length, seq: 0, sendId: 0, rkey: 0, addr: 0 };
  }

  private writeEnvelope(slot: number, env: Envelope): void {
    const b = new Uint8Array(ENVELOPE_BYTES);
    encodeEnvelope(env, b);
    this.env.space.write(this.env.pool.sendSlotAddr(slot), b);
  }

  /** Posts send slot `slot` to `destWorld`, stamping the next sequence number into its envelope. */
  private post(destWorld: number, slot: number, bytes: number, seqWritten = false): void {
    const seq = this.nextSeqOut[destWorld]!++;
    const addr = this.env.pool.sendSlotAddr(slot);
    if (!seqWritten) {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, seq, true);
      this.env.space.write(addr + 20, b);
    }
    this.sendSlotOwner.set(slot, true);
    this.env.qps[destWorld]!.postSend({ wrId: slot * 4 + WR_SEND, sge: { lkey: this.env.pool.lkey, addr, length: bytes } });
  }

  /** Control envelopes (FIN) sent from inside progress: never block; queue when no slot is free. */
  private sendControl(destWorld: number, env: Envelope): void {
    const slot = this.env.pool.takeSendSlot();
    if (slot === undefined) {
      // sent later from progress, at the virtual time it was due (not when a slot came back)
      this.backlog.push({ destWorld, env, time: this.env.device.now });
      return;
    }
    this.writeEnvelope(slot, env);
    this.post(destWorld, slot, ENVELOPE_BYTES);
    this.env.ctrl.noteActivity();
  }

  // ───────────────────────────── receiving ─────────────────────────────

  irecv(route: Route, source: number, tag: number, target: Target): Request {
    const { counters, clock } = this.env;
    const req = this.newRequest('recv', source, tag);
    if (target === 'object') req.hasObject = true;
    if (source === PROC_NULL) {
      counters.procNullOps++;
      req.complete({ source: PROC_NULL, tag: ANY_TAG, count: 0, byteCount: 0 }, clock.now);
      return req;
    }
    counters.receivesPosted++;
    const recv: RecvOp = { context: route.context, source, tag, req, target, postTime: clock.now };
    const found = this.queues.post(recv);
    if (found) {
      counters.matchedUnexpected++;
      this.consume(recv, found);
    }
    return req;
  }

  /** Receive a message a matched probe took out of the queue (mrecv). */
  mrecv(arrival: Arrival, target: Target): Request {
    const req = this.newRequest('recv', arrival.source, arrival.tag);
    if (target === 'object') req.hasObject = true;
    this.env.counters.receivesPosted++;
    this.env.counters.matchedUnexpected++;
    const recv: RecvOp = { context: arrival.context, source: arrival.source, tag: arrival.tag, req, target, postTime: this.env.clock.now };
    this.consume(recv, arrival);
    return req;
  }

  iprobe(key: MatchKey, remove: boolean): Arrival | undefined {
    this.env.counters.probes++;
    this.env.counters.tests++;
    this.env.clock.advance(this.env.costs.pollUs);
    this.progress();
    return remove ? this.queues.takeUnexpected(key) : this.queues.peek(key);
  }

  probe(key: MatchKey, remove: boolean): Arrival {
    this.env.counters.probes++;
    let found: Arrival | undefined;
    this.waitUntil(
      () => (found = remove ? this.queues.takeUnexpected(key) : this.queues.peek(key)) !== undefined,
      { kind: WaitKind.PROBE, peer: key.source, tag: key.tag, context: key.context },
    );
    this.env.clock.advanceTo(found!.time);
    return found!;
  }

  private arrive(a: Arrival): void {
    const recv = this.queues.arrive(a);
    if (recv) {
      this.env.counters.matchedPosted++;
      this.consume(recv, a);
    } else {
      this.env.counters.unexpectedMessages++;
    }
  }

  /** Delivers a matched arrival into a receive. */
  private consume(recv: RecvOp, a: Arrival): void {
    const { counters, space, costs } = this.env;
    const status: Status = { source: a.source, tag: a.tag, count: 0, byteCount: a.length };
    const start = Math.max(recv.postTime, a.time);
    const isObject = recv.target === 'object';
    const capacity = recv.target === 'object' ? a.length : recv.target.capacity;
    status.count = recv.target === 'object' ? a.length : Math.floor(a.length / recv.target.elementSize);

    if (a.length > capacity) {
      counters.truncations++;
      const err = new TruncationError(a.source, a.tag, a.length, capacity);
      recv.req.fail(err, start + costs.overheadUs, status);
      if (a.kind === 'rts') this.sendFin(a, 0, start);
      if (a.selfSend) this.completeSend(a.selfSend.op, start);
      if (a.shm) this.discardShm(a.shm);
      return;
    }
    counters.bytesReceived += a.length;
    if (a.kind === 'shm') {
      this.consumeShm(recv, a, status, start);
    } else if (a.kind === 'eager' || (a.kind === 'self' && a.data)) {
      if (isObject) {
        recv.req.objectValue = unpackObject(a.data!);
      } else if (a.length > 0) {
        const t = recv.target as { addr: number };
        this.guardRecv(recv, status, start, () => space.write(t.addr, a.data!));
        if (recv.req.completed) return;
      }
      recv.req.complete(status, start, costs.overheadUs + copyUs(costs, a.length));
    } else if (a.kind === 'self') {
      const s = a.selfSend!;
      if (isObject) {
        recv.req.objectValue = unpackObject(space.read(s.addr, a.length));
      } else {
        const t = recv.target as { addr: number };
        this.guardRecv(recv, status, start, () => space.copy(t.addr, s.addr, a.length));
        if (recv.req.completed) {
          this.completeSend(s.op, start);
          return;
        }
      }
      const done = start + copyUs(costs, a.length);
      recv.req.complete(status, done);
      this.completeSend(s.op, done);
    } else {
      this.startRead(recv, a, status, start);
    }
  }

  /**
   * shm, receiver side: a receive matched before any payload was read takes the payload straight
   * from the ring (the second of the two copies); otherwise it went to a temporary buffer and is
   * copied out of it (the unexpected-message copy every MPI pays).
   */
  private consumeShm(recv: RecvOp, a: Arrival, status: Status, start: number): void {
    const { space, heap, costs } = this.env;
    const inc = a.shm!;
    const length = a.length;
    const drained = inc.got === length && inc.done === undefined && inc.landing !== undefined;
    if (recv.target === 'object') {
      const deliver = (t: number): void => {
        recv.req.objectValue = unpackObject(space.read(inc.temp!, length));
        heap.free(inc.temp!);
        recv.req.complete(status, Math.max(t, start), costs.overheadUs);
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
        this.guardRecv(recv, status, at, () => space.copy(target.addr, inc.temp!, length));
        heap.free(inc.temp!);
      }
      if (!recv.req.completed) recv.req.complete(status, at, costs.overheadUs + (postedFirst ? 0 : copyUs(costs, length)));
    };
    if (drained || length === 0) moveOut(inc.time);
    else inc.done = moveOut;
  }

  /** A truncated shm message: its payload is drained into the temporary buffer and dropped. */
  private discardShm(inc: ShmIncoming): void {
    const free = (): void => {
      if (inc.temp !== undefined) this.env.heap.free(inc.temp);
    };
    if (inc.got === inc.env.length && inc.done === undefined && inc.landing !== undefined) free();
    else inc.done = free;
  }

  /** shm: an envelope read from a ring, put through the same sequence order as the adapter's. */
  private onShmEnvelope(env: Envelope, time: number, incoming: ShmIncoming): void {
    this.shmIncoming.set(`${env.from}:${env.seq}`, incoming);
    this.onEnvelope(env, new Uint8Array(0), time);
  }

  /** Rendezvous by a single-copy transport (issue 7): one copy from the sender's buffer, no registration. */
  private singleCopyRead(recv: RecvOp, a: Arrival, status: Status, start: number): void {
    const { device, heap, costs, space } = this.env;
    device.set(start);
    device.advance(costs.overheadUs);
    const route = (a.flags! & Flags.CMA) !== 0 ? 'cma' : 'xpmem';
    const temp = recv.target === 'object' ? heap.malloc(a.length) : undefined;
    const landing = temp ?? (recv.target as { addr: number }).addr;
    try {
      this.env.intra!.readSingle(route, a.fromWorld, landing, a.addr!, a.length, a.rkey!);
    } catch (e) {
      if (temp !== undefined) heap.free(temp);
      const code = (e as { code?: string }).code ?? 'EFAULT';
      recv.req.fail(
        code === 'SEGV'
          ? asBufferError(e, 'receive buffer')
          : new TransferError(code, `${route} read of ${a.length} bytes from rank ${a.source} failed: ${(e as Error).message}`),
        device.now, status,
      );
      this.sendFin(a, Flags.ERROR, device.now);
      return;
    }
    if (temp !== undefined) {
      recv.req.objectValue = unpackObject(space.read(temp, a.length));
      heap.free(temp);
    }
    const done = device.now;
    this.sendFin(a, 0, done);
    recv.req.complete(status, done);
  }

  /** Rendezvous, receiver side: register the landing buffer, RDMA-read the sender's buffer. */
  private startRead(recv: RecvOp, a: Arrival, status: Status, start: number): void {
    if ((a.flags ?? 0) & (Flags.CMA | Flags.XPMEM)) {
      this.singleCopyRead(recv, a, status, start);
      return;
    }
    const { device, cache, heap, costs, counters } = this.env;
    // (The adapter serializes the bytes of concurrent transfers on its ports; nothing to add here.)
    device.set(start);
    device.advance(costs.overheadUs);
    let landing: number;
    let temp: number | undefined;
    if (recv.target === 'object') {
      temp = heap.malloc(a.length);
      landing = temp;
    } else {
      landing = recv.target.addr;
    }
    let reg: RegistrationPort;
    try {
      reg = cache.acquire(landing, a.length, ACCESS_ALL);
    } catch (e) {
      if (temp !== undefined) heap.free(temp);
      recv.req.fail(asBufferError(e, 'receive buffer'), device.now, status);
      this.sendFin(a, Flags.ERROR, device.now);
      return;
    }
    const id = this.nextId++;
    this.pendingReads.set(id, { recv, arrival: a, reg, landing, ...(temp !== undefined ? { temp } : {}) });
    counters.rdmaReads++;
    this.env.qps[a.fromWorld]!.rdmaRead({
      wrId: id * 4 + WR_READ,
      sge: { lkey: reg.handle.lkey, addr: landing, length: a.length },
      remoteAddr: a.addr!,
      rkey: a.rkey!,
    });
    this.env.ctrl.noteActivity();
  }

  private finishRead(id: number, status: number, time: number): void {
    const p = this.pendingReads.get(id);
    if (!p) throw new MpiError('MPI_ERR_INTERN', `RDMA read completion for unknown request ${id}`);
    this.pendingReads.delete(id);
    const { device, cache, space, heap } = this.env;
    device.set(time);
    if (p.reg) cache.release(p.reg);
    const st: Status = {
      source: p.arrival.source, tag: p.arrival.tag, byteCount: p.arrival.length,
      count: p.recv.target === 'object' ? p.arrival.length : Math.floor(p.arrival.length / p.recv.target.elementSize),
    };
    if (status !== 0) {
      if (p.temp !== undefined) heap.free(p.temp);
      p.recv.req.fail(
        new TransferError(String(status), `RDMA read of ${p.arrival.length} bytes from rank ${p.arrival.source} failed: the sender's registration no longer covers its buffer`),
        device.now, st,
      );
      this.sendFin(p.arrival, Flags.ERROR, device.now);
      return;
    }
    if (p.temp !== undefined) {
      p.recv.req.objectValue = unpackObject(space.read(p.temp, p.arrival.length));
      heap.free(p.temp);
    }
    const done = device.now;
    this.sendFin(p.arrival, 0, done);
    p.recv.req.complete(st, done);
  }

  private sendFin(a: Arrival, flags: number, time: number): void {
    this.env.device.set(time);
    const env = this.envelope(Kind.FIN, a.context, a.source, a.tag, 0, a.fromWorld);
    env.flags = flags;
    env.sendId = a.sendId!;
    this.sendControl(a.fromWorld, env);
  }

  private onFin(env: Envelope, time: number): void {
    const op = this.pendingSends.get(env.sendId);
    if (!op) throw new MpiError('MPI_ERR_INTERN', `FIN for unknown send ${env.sendId}`);
    this.env.device.set(time);
    if (env.flags & Flags.ERROR) {
      this.releaseSend(op);
      op.req.fail(
        new TransferError('REMOTE', `rank ${op.dest} could not read the ${op.length}-byte message (tag ${op.tag}) from this rank's buffer`),
        this.env.device.now,
      );
      return;
    }
    this.completeSend(op, time);
  }

  private completeSend(op: SendOp, time: number): void {
    this.env.device.set(time);
    this.releaseSend(op);
    op.req.complete({ source: op.dest, tag: op.tag, count: 0, byteCount: op.length }, this.env.device.now);
  }

  private releaseSend(op: SendOp): void {
    this.pendingSends.delete(op.id);
    if (op.reg) this.env.cache.release(op.reg);
    if (op.temp !== undefined) this.env.heap.free(op.temp);
  }

  // ───────────────────────────── progress ─────────────────────────────

  /** Polls the completion queue once and acts on everything found. True if anything happened. */
  progress(): boolean {
    if (this.progressing) return false;
    this.progressing = true;
    try {
      let any = false;
      // The doorbell counts pushes: unchanged since the last empty poll means nothing to poll (one
      // atomic load instead of a poll in the spin loop of every blocking call).
      const cq = this.env.cq;
      let bell = cq.doorbell;
      if (bell !== this.quietBell) {
        for (;;) {
          const cs = cq.poll(64);
          if (cs.length === 0) {
            this.quietBell = bell;
            break;
          }
          any = true;
          for (const c of cs) this.onCompletion(c.wrId, c.status, c.byteLength, c.qpNum, c.time);
          bell = cq.doorbell;
        }
      }
      while (this.backlog.length > 0 && this.env.pool.freeSendSlots > 0) {
        const b = this.backlog.shift()!;
        this.env.device.set(b.time);
        this.sendControl(b.destWorld, b.env);
      }
      const intra = this.env.intra;
      if (intra !== undefined && intra.kind !== 'rdma') {
        if (intra.pump()) any = true;
        if (intra.poll((env, time, incoming) => this.onShmEnvelope(env, time, incoming))) any = true;
      }
      if (any) this.env.ctrl.bumpEpoch(this.env.rank);
      return any;
    } finally {
      this.progressing = false;
    }
  }

  private onCompletion(wrId: number, status: number, byteLength: number, _qpNum: number, time: number): void {
    const type = wrId % 4;
    const index = (wrId - type) / 4;
    if (type === WR_SEND) {
      this.sendSlotOwner.delete(index);
      this.env.pool.returnSendSlot(index);
      if (status !== 0) throw new MpiError('MPI_ERR_INTERN', `a bounce-buffer send completed with adapter status ${status}`);
      return;
    }
    if (type === WR_READ) {
      this.finishRead(index, status, time);
      return;
    }
    if (status !== 0) throw new MpiError('MPI_ERR_INTERN', `a bounce-buffer receive completed with adapter status ${status}`);
    const { pool, space } = this.env;
    const bytes = space.read(pool.recvSlotAddr(index), byteLength);
    this.postRecvSlot(index);
    const env = decodeEnvelope(bytes);
    this.onEnvelope(env, bytes.subarray(ENVELOPE_BYTES, ENVELOPE_BYTES + (env.kind === Kind.EAGER ? env.length : 0)), time);
  }

  /** In sequence order per sender: envelopes from one rank are handled in the order it sent them. */
  private onEnvelope(env: Envelope, payload: Uint8Array, time: number): void {
    const from = this.senderWorld(env);
    if (env.seq !== this.nextSeqIn[from]) {
      this.stash[from]!.set(env.seq, { env, payload, time });
      return;
    }
    this.handleEnvelope(env, payload, time, from);
    this.nextSeqIn[from]!++;
    for (let next = this.stash[from]!.get(this.nextSeqIn[from]!); next; next = this.stash[from]!.get(this.nextSeqIn[from]!)) {
      this.stash[from]!.delete(this.nextSeqIn[from]!);
      this.handleEnvelope(next.env, next.payload, next.time, from);
      this.nextSeqIn[from]!++;
    }
  }

  private handleEnvelope(env: Envelope, payload: Uint8Array, time: number, from: number): void {
    if (env.kind === Kind.FIN) {
      this.onFin(env, time);
      return;
    }
    const a: Arrival = { kind: env.kind === Kind.EAGER ? 'eager' : 'rts', context: env.context, source: env.source, tag: env.tag, length: env.length, time, fromWorld: from };
    if (env.kind === Kind.EAGER) a.data = payload;
    else if (env.kind === Kind.SHM) {
      a.kind = 'shm';
      a.shm = this.shmIncoming.get(`${env.from}:${env.seq}`)!;
      this.shmIncoming.delete(`${env.from}:${env.seq}`);
    } else {
      a.flags = env.flags;
      a.rkey = env.rkey;
      a.addr = env.addr;
      a.sendId = env.sendId;
    }
    this.arrive(a);
  }

  private senderWorld(env: Envelope): number {
    return env.from;
  }

  /** Spins, then sleeps on the CQ doorbell, until `done()`; throws JobAborted if the job is torn down. */
  waitUntil(done: () => boolean, wait: WaitDescription | (() => WaitDescription)): void {
    if (done()) return;
    const { cq, ctrl, rank, counters } = this.env;
    let spins = 0;
    let spinStart = -1;
    let slept = false;
    // Adaptive spinning (as adaptive mutexes do): the budget doubles after waits that ended while
    // spinning and halves after waits that had to sleep, so a rank stops stealing the core from a
    // descheduled peer; every 64th wait probes with the full budget so it recovers when cores free up.
    const budgetUs = (++this.waitsStarted & 63) === 0 ? SPIN_US_DEDICATED : this.spinUs;
    const intra = this.env.intra;
    while (!done()) {
      const seen = cq.doorbell;
      const bell = intra?.doorbell;
      if (this.progress()) {
        spins = 0;
        spinStart = -1;
        continue;
      }
      if (done()) break;
      if (++spins < this.env.spins) {
        if ((spins & 63) !== 0) continue;
        if (ctrl.aborted) throw new JobAborted('another rank failed or the job was stopped');
        const now = performance.now();
        if (spinStart < 0) spinStart = now;
        if ((now - spinStart) * 1000 < budgetUs) continue;
      }
      spins = 0;
      spinStart = -1;
      if (ctrl.aborted) throw new JobAborted('another rank failed or the job was stopped');
      counters.blockingWaits++;
      slept = true;
      ctrl.block(rank, typeof wait === 'function' ? wait() : wait);
      if (bell !== undefined) intra!.sleep(bell, INTRA_SLICE_MS);
      else cq.wait(seen, WAIT_SLICE_MS);
      ctrl.unblock(rank);
    }
    this.spinUs = slept ? (this.spinUs < 2 ? 0 : this.spinUs / 2) : Math.min(SPIN_US_DEDICATED, this.spinUs + 8);
  }

  // ───────────────────────────── requests ─────────────────────────────

  private newRequest(op: 'send' | 'recv', peer: number, tag: number): Request {
    const r = new Request(this, op, peer, tag);
    r.onObserve = this.observe;
    return r;
  }

  /** A request's cost reaches the program clock once, when the program first sees it complete. */
  private readonly observe = (q: Request): void => {
    const { clock } = this.env;
    clock.advanceTo(q.readyTime);
    if (q.localUs > 0) clock.advance(q.localUs);
  };

  waitRequest(r: Request): void {
    this.waitUntil(() => r.completed, () => describe(r));
  }

  testRequest(r: Request): boolean {
    this.env.counters.tests++;
    this.env.clock.advance(this.env.costs.pollUs);
    this.progress();
    return r.completed;
  }

  waitRequests(rs: readonly Request[], all: boolean): number {
    let index = -1;
    const done = all
      ? () => rs.every((r) => r.completed)
      : () => (index = rs.findIndex((r) => r.completed)) >= 0;
    this.waitUntil(done, () => {
      const pending = rs.find((r) => !r.completed);
      return pending ? describe(pending) : { kind: WaitKind.REQUEST, peer: -1, tag: -1, context: 0 };
    });
    return all ? 0 : index;
  }

  async waitRequestAsync(r: Request): Promise<void> {
    let turns = 0;
    while (!r.completed) {
      if (this.progress()) continue;
      if (r.completed) break;
      if (this.env.ctrl.aborted) throw new JobAborted('another rank failed or the job was stopped');
      turns++;
      if (turns > 64) {
        this.env.ctrl.block(this.env.rank, describe(r));
        await new Promise((res) => setTimeout(res, 1));
        this.env.ctrl.unblock(this.env.rank);
      } else {
        await new Promise((res) => setImmediate(res));
      }
    }
  }

  /** MPI_Finalize's share: every rendezvous send must be read by its receiver before the rank goes away. */
  finalize(): void {
    this.waitUntil(() => this.pendingSends.size === 0 && this.backlog.length === 0 && (this.env.intra?.sendsQueued ?? 0) === 0, {
      kind: WaitKind.FINALIZE,
      peer: this.pendingSends.values().next().value?.dest ?? -1,
      tag: this.pendingSends.values().next().value?.tag ?? -1,
      context: 0,
    });
  }

  /**
   * Local work of the program (a collective's reductions and copies) on the program clock, at the
   * same memcpy rate as eager copies; returns the µs charged.
   */
  chargeLocalCopy(bytes: number): number {
    const us = copyUs(this.env.costs, bytes);
    this.env.clock.advance(us);
    return us;
  }

  get outstandingSends(): number {
    return this.pendingSends.size;
  }

  private guard<T>(f: () => T, what: string): T {
    try {
      return f();
    } catch (e) {
      throw asBufferError(e, what);
    }
  }

  private guardRecv(recv: RecvOp, status: Status, time: number, f: () => void): void {
    try {
      f();
    } catch (e) {
      recv.req.fail(asBufferError(e, 'receive buffer'), time, status);
    }
  }
}

/** Virtual µs of a CPU copy of `bytes` at the cost model's memcpy rate: the one formula for local copies. */
export function copyUs(costs: Pick<MessageCosts, 'memcpyGBps'>, bytes: number): number {
  return bytes / (costs.memcpyGBps * 1000);
}

function describe(r: Request): WaitDescription {
  return { kind: r.op === 'send' ? WaitKind.SEND : WaitKind.RECV, peer: r.peer, tag: r.tag, context: 0 };
}

/**
 * Errors from below on a user buffer, made typed and actionable: no lockable memory (ENOMEM from the
 * adapter or the cache) becomes MPI_ERR_NO_MEM naming --memlock; a segfault or bad address becomes
 * MPI_ERR_BUFFER.
 */
export function asBufferError(e: unknown, what: string): Error {
  if (e instanceof MpiError) return e;
  const code = e instanceof Error ? (e as { code?: unknown }).code : undefined;
  if (code === 'ENOMEM') {
    const err = new MemlockExhausted(
      `registering the ${what} failed: ${(e as Error).message}. Raise the per-rank limit ` +
        `(tsmpi run --memlock 64M, or unlimited; runJob({ memlock })) or keep fewer large buffers in flight`,
    );
    (err as { cause?: unknown }).cause = e;
    return err;
  }
  if (typeof code === 'string') {
    const err = new InvalidBuffer(
      `the ${what} is not valid memory of this rank (${(e as Error).message}): allocate buffers with comm.alloc() or ` +
        `comm.heap.malloc() and do not use them after free()`,
    );
    (err as { cause?: unknown }).cause = e;
    return err;
  }
  return e instanceof Error ? e : new Error(String(e));
}

export { packObject };
