import { ANY_TAG, PROC_NULL } from '../constants.js';
import { MpiError, TruncationError } from '../errors.js';
import { Request, type Progress } from '../request.js';
import type { MessageCounters } from '../stats.js';
import type { Status } from '../status.js';
import {
  WaitKind, idleUntil, type ClockPort, type CompletionPort, type CqPort, type JobControlPort, type MessageCosts, type QpPort, type RecvQueuePort,
  type RegistrationProviderPort, type SpacePort, type WaitDescription,
} from './ports.js';
import { BouncePool } from './bounce.js';
import { copyUs } from './copy-cost.js';
import { ENVELOPE_BYTES, decodeEnvelope, encodeEnvelope, type Envelope, type KindValue } from './envelope.js';
import type { IntraPath, RingSource, ShmIncoming } from './intra.js';
import { MatchQueues, type MatchKey } from './matching.js';
import type { Arrival, Payload, RecvOp, Route, SendMode, SendOp, Target } from './operations.js';
import type { EnvelopeHandler, ProtocolHost, RdmaRead, SingleCopyRoute } from './protocol.js';
import { FinHandler } from './protocols/rendezvous.js';
import { ProtocolSelection, protocolTable } from './select.js';
import { Waiter } from './waiter.js';
import { WorkRequest, workRequestId, workRequestIndex, workRequestKind } from './work-request.js';

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
  ctrl: JobControlPort;
  costs: MessageCosts;
  eagerThreshold: number;
  counters: MessageCounters;
  /** intra-node transports (issue 7); absent with --intra rdma */
  intra?: IntraPath;
  /** Progress polls before sleeping on the completion queue's doorbell. */
  spins: number;
}

/** An envelope that came early (its sender's earlier ones are still on their way). */
interface Stashed {
  env: Envelope;
  payload: Uint8Array;
  time: number;
  incoming: ShmIncoming | undefined;
}

/**
 * The point-to-point engine core of one rank: matching, ordering (per-sender sequence numbers),
 * progress, waits, and request observation. How a message travels is a protocol module's business
 * (protocols/, chosen by select.ts); the engine hands each module a ProtocolHost. Two choke points
 * carry everything that depends on virtual time across ranks:
 *   - posting: postSend / postControl / postRead / postRing / postSingleCopy, the only calls that
 *     touch a shared timing resource (the adapter's queue pairs, a ring, a peer's memory), each at
 *     the device clock's current time;
 *   - delivery: progress hands every completion to deliverCompletion and every ring envelope to
 *     deliverRingEnvelope; both reach matching through deliverInOrder.
 * Everything runs on the rank's own thread; blocking calls spin briefly on the completion queue,
 * then sleep on its doorbell (Atomics.wait) in short slices that check the job's abort flag.
 */
export class Engine implements Progress, ProtocolHost {
  readonly queues = new MatchQueues<RecvOp, Arrival>();
  readonly env: EngineEnv;
  private readonly selection: ProtocolSelection;
  /** Envelope receivers: every protocol, and the FIN every rendezvous ends with. */
  private readonly handlers: readonly EnvelopeHandler[];
  /** Sends waiting for their receiver (FIN, or a synchronous self-send's match). */
  private readonly pendingSends = new Map<number, SendOp>();
  /** RDMA reads in flight: id → what to do with the completion. */
  private readonly pendingReads = new Map<number, (status: number, time: number) => void>();
  /** Control envelopes waiting for a free send slot, with the virtual time they were due. */
  private readonly backlog: { destWorld: number; env: Envelope; time: number }[] = [];
  private readonly nextSeqOut: number[];
  private readonly nextSeqIn: number[];
  private readonly stash: Map<number, Stashed>[];
  private nextId = 1;
  private progressing = false;
  /** The CQ doorbell value read before the last poll that found nothing. */
  private quietBell = -1;
  private readonly waiter: Waiter;
  /** Called after every poll of a blocking wait (set by collectives/nonblocking.ts). */
  afterProgress: (() => void) | undefined;

  constructor(env: EngineEnv) {
    this.env = env;
    this.nextSeqOut = new Array(env.size).fill(0);
    this.nextSeqIn = new Array(env.size).fill(0);
    this.stash = Array.from({ length: env.size }, () => new Map());
    const table = protocolTable(this);
    this.selection = new ProtocolSelection(table, env.rank, env.eagerThreshold, env.intra);
    this.handlers = [...Object.values(table), new FinHandler(this)];
    // after each poll, what else waits on this rank's messages moves on (nonblocking collectives' schedules)
    this.waiter = new Waiter(env, () => {
      const any = this.progress();
      this.afterProgress?.();
      return any;
    });
    for (let i = 0; i < env.pool.recvSlots; i++) this.postRecvSlot(i);
  }

  get eagerThreshold(): number {
    return this.selection.eagerThreshold;
  }

  // ───────────────────────────── sending ─────────────────────────────

  isend(route: Route, dest: number, tag: number, payload: Payload, mode: SendMode = {}): Request {
    const { counters, clock } = this.env;
    const length = 'bytes' in payload ? payload.bytes.length : payload.length;
    const req = this.newRequest('send', dest, tag);
    if (dest === PROC_NULL) {
      counters.procNullOps++;
      req.complete({ source: PROC_NULL, tag: ANY_TAG, count: 0, byteCount: 0 }, clock.now);
      return req;
    }
    const destWorld = route.world(dest);
    const op: SendOp = { req, id: this.nextId++, destWorld, dest, tag, length, ...mode };
    const sendStatus: Status = { source: route.rank, tag, count: 0, byteCount: length };
    this.selection.selectProtocol(destWorld, length, op.synchronous === true).send(route, op, payload, sendStatus);
    this.env.ctrl.noteActivity();
    return req;
  }

  newId(): number {
    return this.nextId++;
  }

  /** A free send slot; if none, progress until a send completion returns one. */
  takeSendSlot(op: SendOp): number {
    let slot = this.env.pool.takeSendSlot();
    if (slot === undefined) {
      this.waitUntil(() => this.env.pool.freeSendSlots > 0, { kind: WaitKind.SEND, peer: op.dest, tag: op.tag, context: 0 });
      slot = this.env.pool.takeSendSlot()!;
    }
    return slot;
  }

  envelope(kind: KindValue, context: number, source: number, tag: number, length: number): Envelope {
    return { kind, flags: 0, from: this.env.rank, context, source, tag, length, seq: 0, sendId: 0, rkey: 0, addr: 0 };
  }

  awaitReceiver(op: SendOp): void {
    this.pendingSends.set(op.id, op);
  }

  pendingSend(id: number): SendOp | undefined {
    return this.pendingSends.get(id);
  }

  completeSend(op: SendOp, time: number): void {
    this.env.device.set(time);
    this.releaseSend(op);
    op.req.complete({ source: op.dest, tag: op.tag, count: 0, byteCount: op.length }, this.env.device.now);
  }

  failSend(op: SendOp, error: Error, time: number): void {
    this.env.device.set(time);
    this.releaseSend(op);
    op.req.fail(error, this.env.device.now);
  }

  private releaseSend(op: SendOp): void {
    this.pendingSends.delete(op.id);
    if (op.reg && op.reg !== op.held?.reg) this.env.cache.release(op.reg);
    if (op.temp !== undefined) this.env.heap.free(op.temp);
  }

  // ──────────── posting: every touch of a shared timing resource, at the device clock's time ────────────

  postSend(destWorld: number, slot: number, env: Envelope, frame: Uint8Array = new Uint8Array(ENVELOPE_BYTES)): void {
    const { pool, space, qps } = this.env;
    env.seq = this.nextSeqOut[destWorld]!++;
    encodeEnvelope(env, frame);
    const addr = pool.sendSlotAddr(slot);
    space.write(addr, frame);
    qps[destWorld]!.postSend({ wrId: workRequestId(WorkRequest.SEND_SLOT, slot), sge: { lkey: pool.lkey, addr, length: frame.length } });
  }

  postControl(destWorld: number, env: Envelope): void {
    const slot = this.env.pool.takeSendSlot();
    if (slot === undefined) {
      // sent later from progress, at the virtual time it was due (not when a slot came back)
      this.backlog.push({ destWorld, env, time: this.env.device.now });
      return;
    }
    this.postSend(destWorld, slot, env);
    this.env.ctrl.noteActivity();
  }

  postRead(destWorld: number, read: RdmaRead, done: (status: number, time: number) => void): void {
    const id = this.nextId++;
    this.pendingReads.set(id, done);
    this.env.qps[destWorld]!.rdmaRead({
      wrId: workRequestId(WorkRequest.READ, id),
      sge: { lkey: read.lkey, addr: read.landing, length: read.length },
      remoteAddr: read.remoteAddr,
      rkey: read.rkey,
    });
    this.env.ctrl.noteActivity();
  }

  postRing(destWorld: number, env: Envelope, source: RingSource, length: number, done: (time: number) => void): void {
    // the sequence number is taken only once the ring accepted the send (a bad buffer throws before)
    env.seq = this.nextSeqOut[destWorld]!;
    this.env.intra!.send(destWorld, env, source, length, this.env.device.now, done);
    this.nextSeqOut[destWorld]!++;
  }

  postSingleCopy(route: SingleCopyRoute, from: number, landing: number, remoteAddr: number, length: number, segid: number): void {
    this.env.intra!.readSingle(route, from, landing, remoteAddr, length, segid);
  }

  get segid(): number {
    return this.env.intra!.mySegid;
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
    srq.postRecv({ wrId: workRequestId(WorkRequest.RECV_SLOT, i), sge: { lkey: pool.lkey, addr: pool.recvSlotAddr(i), length: pool.slotBytes } });
  }

  // ───────────────────────────── matching ─────────────────────────────

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
    req.cancelHook = () => this.cancelRecv(recv);
    const found = this.queues.post(recv);
    if (found) {
      counters.matchedUnexpected++;
      this.consume(recv, found);
    }
    return req;
  }

  /** cancel(): withdraws a receive no message has matched yet; it completes, cancelled, now. */
  private cancelRecv(recv: RecvOp): boolean {
    if (!this.queues.cancel(recv)) return false;
    recv.req.complete({ source: PROC_NULL, tag: ANY_TAG, count: 0, byteCount: 0, cancelled: true }, this.env.clock.now);
    return true;
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
    idleUntil(this.env.clock, found!.time);
    return found!;
  }

  arrive(a: Arrival): void {
    const recv = this.queues.arrive(a);
    if (recv) {
      this.env.counters.matchedPosted++;
      this.consume(recv, a);
    } else {
      this.env.counters.unexpectedMessages++;
    }
  }

  /** Delivers a matched arrival into a receive, through the protocol it came by. */
  private consume(recv: RecvOp, a: Arrival): void {
    const { counters, costs } = this.env;
    const start = Math.max(recv.postTime, a.time);
    const capacity = recv.target === 'object' ? a.length : recv.target.capacity;
    const count = recv.target === 'object' ? a.length : Math.floor(a.length / recv.target.elementSize);
    const status: Status = { source: a.source, tag: a.tag, count, byteCount: a.length };
    if (a.length > capacity) {
      counters.truncations++;
      recv.req.fail(new TruncationError(a.source, a.tag, a.length, capacity), start + costs.overheadUs, status);
      a.protocol.drop(a, start);
      return;
    }
    counters.bytesReceived += a.length;
    a.protocol.receive(recv, a, status, start);
  }

  // ──────────── delivery: what progress found, handed to matching in sequence order ────────────

  /** An adapter completion: a send slot back, an RDMA read done, or an envelope in a receive slot. */
  private deliverCompletion(c: CompletionPort): void {
    const index = workRequestIndex(c.wrId);
    switch (workRequestKind(c.wrId)) {
      case WorkRequest.SEND_SLOT:
        this.env.pool.returnSendSlot(index);
        if (c.status !== 0) throw new MpiError('MPI_ERR_INTERN', `a bounce-buffer send completed with adapter status ${c.status}`);
        return;
      case WorkRequest.READ: {
        const done = this.pendingReads.get(index);
        if (!done) throw new MpiError('MPI_ERR_INTERN', `RDMA read completion for unknown request ${index}`);
        this.pendingReads.delete(index);
        done(c.status, c.time);
        return;
      }
    }
    if (c.status !== 0) throw new MpiError('MPI_ERR_INTERN', `a bounce-buffer receive completed with adapter status ${c.status}`);
    const { pool, space } = this.env;
    const bytes = space.read(pool.recvSlotAddr(index), c.byteLength);
    this.postRecvSlot(index);
    this.deliverInOrder(decodeEnvelope(bytes), bytes.subarray(ENVELOPE_BYTES), c.time, undefined);
  }

  /** shm: an envelope read from a ring, put through the same sequence order as the adapter's. */
  private deliverRingEnvelope(env: Envelope, time: number, incoming: ShmIncoming): void {
    this.deliverInOrder(env, new Uint8Array(0), time, incoming);
  }

  /** In sequence order per sender: envelopes from one rank are handled in the order it sent them. */
  private deliverInOrder(env: Envelope, payload: Uint8Array, time: number, incoming: ShmIncoming | undefined): void {
    const from = env.from;
    const stash = this.stash[from]!;
    if (env.seq !== this.nextSeqIn[from]) {
      stash.set(env.seq, { env, payload, time, incoming });
      return;
    }
    this.handle(env, payload, time, from, incoming);
    this.nextSeqIn[from]!++;
    for (let next = stash.get(this.nextSeqIn[from]!); next; next = stash.get(this.nextSeqIn[from]!)) {
      stash.delete(this.nextSeqIn[from]!);
      this.handle(next.env, next.payload, next.time, from, next.incoming);
      this.nextSeqIn[from]!++;
    }
  }

  private handle(env: Envelope, payload: Uint8Array, time: number, from: number, incoming: ShmIncoming | undefined): void {
    for (const h of this.handlers) {
      if (h.accepts(env)) {
        h.onEnvelope(env, payload, time, from, incoming);
        return;
      }
    }
    throw new MpiError('MPI_ERR_INTERN', `an envelope of unknown kind ${env.kind} (flags ${env.flags}) from rank ${from}`);
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
          for (const c of cs) this.deliverCompletion(c);
          bell = cq.doorbell;
        }
      }
      while (this.backlog.length > 0 && this.env.pool.freeSendSlots > 0) {
        const b = this.backlog.shift()!;
        this.env.device.set(b.time);
        this.postControl(b.destWorld, b.env);
      }
      const intra = this.env.intra;
      if (intra !== undefined && intra.kind !== 'rdma') {
        if (intra.pump()) any = true;
        if (intra.poll((env, time, incoming) => this.deliverRingEnvelope(env, time, incoming))) any = true;
      }
      if (any) this.env.ctrl.bumpEpoch(this.env.rank);
      return any;
    } finally {
      this.progressing = false;
    }
  }

  // ───────────────────────────── waits and requests ─────────────────────────────

  /** Spins, then sleeps on the CQ doorbell, until `done()`; throws JobAborted if the job is torn down. */
  waitUntil(done: () => boolean, wait: WaitDescription | (() => WaitDescription)): void {
    this.waiter.waitUntil(done, wait);
  }

  private newRequest(op: 'send' | 'recv', peer: number, tag: number): Request {
    const r = new Request(this, op, peer, tag);
    r.onObserve = this.observe;
    return r;
  }

  /** A request's cost reaches the program clock once, when the program first sees it complete. */
  private readonly observe = (q: Request): void => {
    const { clock } = this.env;
    idleUntil(clock, q.readyTime);
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
    await this.waiter.waitAsync(() => r.completed, () => describe(r));
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
}

function describe(r: Request): WaitDescription {
  return { kind: r.op === 'send' ? WaitKind.SEND : WaitKind.RECV, peer: r.peer, tag: r.tag, context: 0 };
}
