import { ANY_TAG, PROC_NULL } from '../constants.js';
import { TimingMode, type Horizon } from '../timing/horizon.js';
import { TruncationError } from '../errors.js';
import type { RndvSetting } from '../options.js';
import { Request, type Progress } from '../request.js';
import type { MessageCounters } from '../stats.js';
import type { Status } from '../status.js';
import {
  WaitKind, idleUntil, type ClockPort, type CqPort, type JobControlPort, type MessageCosts, type QpPort, type QueuePairsPort, type RecvQueuePort,
  type RegistrationProviderPort, type SpacePort, type WaitDescription,
} from './ports.js';
import { BouncePool } from './bounce.js';
import { copyUs } from './copy-cost.js';
import type { Envelope, KindValue } from './envelope.js';
import type { IntraPath, RingSource, ShmIncoming } from './intra.js';
import { MatchQueues, type MatchKey } from './matching.js';
import type { Arrival, Payload, RecvOp, Route, SendMode, SendOp, Target } from './operations.js';
import type { EnvelopeHandler, ProtocolHost, RdmaRead, SingleCopyRoute } from './protocol.js';
import { FinHandler } from './protocols/rendezvous.js';
import { ProtocolSelection, protocolTable } from './select.js';
import { AdapterEndpoint } from './adapter-endpoint.js';
import { InOrderDelivery } from './in-order.js';
import { Scheduler } from './scheduler.js';
import { TimedWaits } from './timed-waits.js';
import { Waiter, type Step } from './waiter.js';

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
  qps: QueuePairsPort;
  pool: BouncePool;
  cache: RegistrationProviderPort;
  ctrl: JobControlPort;
  costs: MessageCosts;
  eagerThreshold: number;
  /** --rndv: how a rendezvous over the adapter moves the message (default auto, 1 MiB chunks) */
  rndv?: RndvSetting;
  counters: MessageCounters;
  /** intra-node transports (issue 7); absent with --intra rdma */
  intra?: IntraPath;
  /** Progress polls before sleeping on the completion queue's doorbell. */
  spins: number;
  /** The host's cores: with more ranks than cores, a wait spins long only while the awake ranks fit them. */
  cores?: number;
  /** The job's virtual-time horizon (exact timing); absent with --timing fast. */
  horizon?: Horizon;
  /** The least virtual time from another rank's action to an event it makes here (see scheduler.ts). */
  lookaheadUs?: number;
  /** --inject's timed faults (inject-timed.ts): due at each program action; they name the fault behind a failed QP. */
  faults?: { due(t: number): void; explain(cause: string, peer: number): string };
}

/**
 * The point-to-point engine core of one rank: matching, ordering (per-sender sequence numbers),
 * progress, waits, and request observation. How a message travels is a protocol module's business
 * (protocols/, chosen by select.ts); the engine hands each module a ProtocolHost. Two choke points
 * carry everything that depends on virtual time across ranks:
 *   - posting: postSend / postControl / postRead (adapter-endpoint.ts) / postRing / postSingleCopy,
 *     the only calls that touch a shared timing resource (the adapter's queue pairs, a ring, a peer's
 *     memory), each at the device clock's current time; with exact timing a post that reserves a
 *     port waits in the rank's timeline until no rank can still act before it (scheduler.ts);
 *   - delivery: drain() turns every completion and ring envelope into an event of the timeline; the
 *     events run in virtual-time order and reach matching through in-order.ts.
 * A program call first runs everything due by the program clock (sync); waits come in three kinds
 * (timed-waits.ts). Everything runs on the rank's own thread; blocking calls spin briefly, then sleep
 * on a doorbell (Atomics.wait) in short slices that check the job's abort flag.
 */
export class Engine implements Progress, ProtocolHost {
  readonly queues = new MatchQueues<RecvOp, Arrival>();
  readonly env: EngineEnv;
  private readonly selection: ProtocolSelection;
  /** Envelope receivers: every protocol, and the FIN every rendezvous ends with. */
  private readonly handlers: readonly EnvelopeHandler[];
  /** Sends waiting for their receiver (FIN, or a synchronous self-send's match). */
  private readonly pendingSends = new Map<number, SendOp>();
  /** What this rank still has to do, in virtual-time order, and when it may (exact timing). */
  readonly scheduler: Scheduler;
  /** Bounce slots, posts to queue pairs, RDMA reads in flight, the completion queue's drain. */
  private readonly adapter: AdapterEndpoint;
  private readonly nextSeqOut: number[];
  private readonly inOrder: InOrderDelivery;
  private readonly timed: TimedWaits;
  private nextId = 1;
  private progressing = false;
  private readonly waiter: Waiter;
  /** Called after every poll of a blocking wait (set by collectives/nonblocking.ts). */
  afterProgress: (() => void) | undefined;

  constructor(env: EngineEnv) {
    this.env = env;
    this.nextSeqOut = new Array(env.size).fill(0);
    const table = protocolTable(this);
    this.selection = new ProtocolSelection(table, env.rank, env.eagerThreshold, env.intra, env.rndv?.mode, env.rndv?.noncontig, env.costs);
    this.handlers = [...Object.values(table), new FinHandler(this)];
    const rings = env.intra?.usesRings ? env.intra : undefined;
    this.scheduler = new Scheduler(
      env.rank, env.horizon,
      () => Math.min(this.adapter.backlogTime, rings?.heldTime ?? Infinity),
      () => Math.min(env.cq.watermark ?? Infinity, rings?.undrained ?? Infinity),
      env.lookaheadUs ?? 0,
    );
    env.intra?.bind(this.scheduler);
    // after each poll, what else waits on this rank's messages moves on (nonblocking collectives' schedules)
    this.waiter = new Waiter(env, () => {
      const any = this.progress();
      this.afterProgress?.();
      return any;
    });
    this.inOrder = new InOrderDelivery(env.size, this.handlers);
    this.timed = new TimedWaits(
      { scheduler: this.scheduler, clock: env.clock, drain: () => this.drain(), afterEvent: () => this.afterProgress?.() },
      this.waiter,
    );
    this.adapter = new AdapterEndpoint({
      ...env, scheduler: this.scheduler, eventsOnly: () => this.afterProgress === undefined,
      takeSeq: (dest) => this.nextSeqOut[dest]!++,
      deliver: (e, payload, time) => this.deliverInOrder(e, payload, time, undefined),
    });
  }

  get eagerThreshold(): number {
    return this.selection.eagerThreshold;
  }

  // ───────────────────────────── sending ─────────────────────────────

  isend(route: Route, dest: number, tag: number, payload: Payload, mode: SendMode = {}): Request {
    this.sync();
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
    this.timed.act(() => this.selection.selectProtocol(destWorld, length, op.synchronous === true, payload).send(route, op, payload, sendStatus));
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
      this.waitForResource(() => this.env.pool.freeSendSlots > 0, { kind: WaitKind.SEND, peer: op.dest, tag: op.tag, context: 0 });
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

  postSend(destWorld: number, slot: number, env: Envelope, frame?: Uint8Array): void {
    this.adapter.postSend(destWorld, slot, env, frame);
  }

  postControl(destWorld: number, env: Envelope): void {
    this.adapter.postControl(destWorld, env);
  }

  postRead(destWorld: number, read: RdmaRead, done: (status: number, time: number) => void): void {
    this.adapter.postRead(destWorld, read, done);
  }

  /**
   * A one-sided post (rma/) as a program call at the program clock: `prepare` runs on the device
   * clock first (registrations it takes are charged there) and returns the post; the program clock
   * then pays up to the post's overhead.
   */
  postOneSided(destWorld: number, prepare: () => (qp: QpPort, wrId: number) => void, done: (status: number, time: number) => void): void {
    this.sync();
    this.env.device.set(this.env.clock.now);
    this.adapter.postOneSided(destWorld, prepare(), done);
    this.env.clock.advanceTo(this.env.device.now);
  }

  /** A program call that posts nothing (an RMA synchronisation): first runs what is due by the program clock. */
  programCall(): void {
    this.sync();
  }

  postRing(destWorld: number, env: Envelope, source: RingSource, length: number, done: (time: number) => void): void {
    // the sequence number is taken only once the ring accepted the send (a bad buffer throws before)
    env.seq = this.nextSeqOut[destWorld]!;
    this.env.intra!.send(destWorld, env, source, length, this.env.device.now, done);
    this.nextSeqOut[destWorld]!++;
  }

  postSingleCopy(route: SingleCopyRoute, from: number, landing: number, remoteAddr: number, length: number, segid: number, done: (error?: unknown) => void): void {
    this.env.intra!.readSingle(route, from, landing, remoteAddr, length, segid, done);
  }

  get segid(): number {
    return this.env.intra!.mySegid;
  }

  // ───────────────────────────── matching ─────────────────────────────

  irecv(route: Route, source: number, tag: number, target: Target): Request {
    this.sync();
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
    this.sync();
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
    this.poll();
    const found = remove ? this.queues.takeUnexpected(key) : this.queues.peek(key);
    this.notePoll(found !== undefined, { kind: WaitKind.PROBE, peer: key.source, tag: key.tag, context: key.context });
    return found;
  }

  probe(key: MatchKey, remove: boolean): Arrival {
    this.env.counters.probes++;
    let found: Arrival | undefined;
    this.sync();
    this.waitForEvent(
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

  private deliverInOrder(env: Envelope, payload: Uint8Array, time: number, incoming: ShmIncoming | undefined): void {
    this.inOrder.deliver(env, payload, time, incoming);
  }

  // ───────────────────────────── progress ─────────────────────────────

  /**
   * Polls the completion queue (and rings) once and acts on what is due. True if anything happened.
   * With exact timing, acting means running the timeline's items that are safe: all of them while
   * the rank waits for an event, those due by its clock while the program runs.
   */
  progress(): boolean {
    if (this.progressing) return false;
    this.progressing = true;
    try {
      let any = this.drain();
      const s = this.scheduler;
      if (s.exact && !s.inItem && s.advance(s.blocked ? Infinity : s.clockMark, undefined, () => this.afterProgress?.()) !== 'idle') any = true;
      if (any) this.env.ctrl.bumpEpoch(this.env.rank);
      return any;
    } finally {
      this.progressing = false;
    }
  }

  /**
   * Takes everything the completion queue and the rings hold: send slots come back at once, every
   * other completion becomes an event in the timeline (run at once with --timing fast). Then says
   * so to the other ranks before the CQ's watermark may rise (see timing/horizon.ts).
   */
  private drain(): boolean {
    let any = this.adapter.drain();
    const intra = this.env.intra;
    if (intra !== undefined && intra.kind !== 'rdma') {
      if (intra.pump()) any = true;
      // a ring envelope goes through the same sequence order as the adapter's
      if (intra.poll((env, time, incoming) => this.deliverInOrder(env, new Uint8Array(0), time, incoming))) any = true;
    }
    if (any && this.scheduler.exact) {
      this.scheduler.publish();
      this.env.cq.retire?.();
      intra?.retire();
      this.scheduler.announce(); // the watermark rose: wake whoever waits on this rank
    }
    return any;
  }

  /** A program action at the program clock (see TimedWaits.sync). */
  private sync(): void {
    this.timed.sync();
    this.env.faults?.due(this.env.clock.now);
  }

  private waitForEvent(done: () => boolean, wait: WaitDescription | (() => WaitDescription)): void {
    this.timed.waitForEvent(done, wait);
  }

  private waitForResource(done: () => boolean, wait: WaitDescription): void {
    this.timed.waitForResource(done, wait);
  }

  // ───────────────────────────── waits and requests ─────────────────────────────

  /** Spins, then sleeps on the CQ doorbell, until `done()`; throws JobAborted if the job is torn down. */
  waitUntil(done: () => boolean, wait: WaitDescription | (() => WaitDescription)): void {
    this.waitForEvent(done, wait);
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
    // wait() observes the request at once (request.ts), so the clock goes on from its readyTime
    this.timed.waitForEvent(() => r.completed, () => describe(r), () => (r.completed ? r.readyTime : 0));
  }

  testRequest(r: Request): boolean {
    this.env.counters.tests++;
    this.env.clock.advance(this.env.costs.pollUs);
    this.poll();
    this.notePoll(r.completed, describe(r));
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
    await this.timed.waitForEventAsync(() => r.completed, () => describe(r));
  }

  private polling = false;

  /** The deadlock detector sees a rank that polls for nothing as it sees one that waits (control-block.ts). */
  private notePoll(found: boolean, wait: WaitDescription): void {
    if (!found) this.env.ctrl.poll(this.env.rank, wait);
    else if (this.polling) this.env.ctrl.unblock(this.env.rank);
    this.polling = !found;
  }

  /** One modeled poll (test, iprobe): with exact timing, a program action like any other. */
  private poll(): void {
    if (this.scheduler.exact) this.sync();
    else this.progress();
  }

  /**
   * MPI_Finalize's share: every rendezvous send must be read by its receiver before the rank goes
   * away, and every shm message this rank matched must have left the ring (its sender waits for that).
   */
  finalize(): void {
    this.sync();
    const s = this.scheduler;
    const intra = this.env.intra;
    const ringsIdle = (): boolean => intra === undefined || (intra.sendsQueued === 0 && intra.receivesDraining === 0);
    this.waitForEvent(() => this.pendingSends.size === 0 && this.adapter.backlogged === 0 && s.pending === 0 && ringsIdle(), {
      kind: WaitKind.FINALIZE,
      peer: this.pendingSends.values().next().value?.dest ?? -1,
      tag: this.pendingSends.values().next().value?.tag ?? -1,
      context: 0,
    });
    // gone: from now on no rank waits for this one (what still reaches it is never received)
    s.enter(TimingMode.FINISHED, this.env.clock.now);
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
