import { MpiError, type ConnectionFailed } from '../errors.js';
import { connectionFailure } from './connection-failure.js';
import type { BouncePool } from './bounce.js';
import { ENVELOPE_BYTES, decodeEnvelope, encodeEnvelope, type Envelope } from './envelope.js';
import type { CompletionPort, CqPort, JobControlPort, MessageCosts, QpPort, QueuePairsPort, RecvQueuePort, SpacePort, SpaceWindow } from './ports.js';
import type { RdmaRead } from './protocol.js';
import type { Scheduler } from './scheduler.js';
import { WorkRequest, workRequestId, workRequestIndex, workRequestKind } from './work-request.js';
import type { DeviceClock } from './engine.js';

export interface AdapterEndpointEnv {
  rank: number;
  space: SpacePort;
  device: DeviceClock;
  costs: MessageCosts;
  cq: CqPort;
  srq: RecvQueuePort;
  qps: QueuePairsPort;
  pool: BouncePool;
  ctrl: JobControlPort;
  scheduler: Scheduler;
  /** The next sequence number towards world rank `dest` (shared with the rings: one order per pair). */
  takeSeq(dest: number): number;
  /** An envelope that arrived, for in-order delivery at its virtual time. */
  deliver(env: Envelope, payload: Uint8Array, time: number): void;
  /** --inject: names the injected fault behind a queue pair's failure. */
  faults?: { explain(cause: string, peer: number): string };
  /** Nothing but the timeline acts after an event (the rank never started a nonblocking collective, whose schedules may): see postRead. */
  eventsOnly(): boolean;
}

/**
 * The rank's side of the adapter: its bounce slots, its posts to queue pairs (each at its virtual
 * time, in the order the scheduler allows), the RDMA reads in flight, and the drain of its completion
 * queue into events.
 */
export class AdapterEndpoint {
  /** RDMA reads in flight: id → what to do with the completion, and its place among this rank's own events. */
  private readonly pendingReads = new Map<number, { done: (status: number, time: number) => void; order: number }>();
  /** Control envelopes waiting for a free send slot, with the virtual time they were due. */
  private readonly backlog: { destWorld: number; env: Envelope; time: number }[] = [];
  private nextReadId = 1;
  /** The CQ doorbell value read before the last poll that found nothing. */
  private quietBell = -1;
  /** What each poll of the CQ fills (its completion objects reused: read each before the next poll). */
  private readonly polled: CompletionPort[] = [];
  /** A control envelope's frame: encoded and copied into its slot at once, so one serves every post. */
  private readonly controlFrame = new Uint8Array(ENVELOPE_BYTES);
  /**
   * Each bounce slot's window on its frames (receive slots first, then send slots, as in the slab),
   * made at first use: the slab stays mapped for the whole job, so a slot is written and read without
   * a page-table walk; a mapping change anywhere in the space (one atomic load tells) re-checks it.
   */
  private readonly windows: (SpaceWindow | undefined)[] = [];

  /**
   * The first queue pair of this rank that failed. As in an MPI over verbs, a fatal completion ends
   * the rank (tsmpi does not reconnect and replay): a program that catches the error gets it again
   * from its next call, so it can neither go on with a dead connection nor wait on one for ever.
   */
  private broken: ConnectionFailed | undefined;

  constructor(private readonly env: AdapterEndpointEnv) {
    for (let i = 0; i < env.pool.recvSlots; i++) this.postRecvSlot(i);
  }

  /** Raises the rank's connection failure again, if it had one. */
  private rethrowBroken(): void {
    if (this.broken !== undefined) throw this.broken;
  }

  /** Control envelopes still waiting for a send slot, and the earliest time one was due. */
  get backlogged(): number {
    return this.backlog.length;
  }

  get backlogTime(): number {
    // read on every step of a spinning wait: a loop, not a reduce with a closure per call
    let m = Infinity;
    for (let i = 0; i < this.backlog.length; i++) if (this.backlog[i]!.time < m) m = this.backlog[i]!.time;
    return m;
  }

  /** Sends `env` (and `frame`'s payload after it) from bounce slot `slot`, stamping the next sequence number. */
  postSend(destWorld: number, slot: number, env: Envelope, frame: Uint8Array = this.controlFrame): void {
    const { pool, space, qps, device, costs } = this.env;
    env.seq = this.env.takeSeq(destWorld);
    encodeEnvelope(env, frame);
    const addr = pool.sendSlotAddr(slot);
    this.window(pool.recvSlots + slot, addr).write(frame);
    const qp = qps.to(destWorld);
    const wr = { wrId: workRequestId(WorkRequest.SEND_SLOT, slot), sge: { lkey: pool.lkey, addr, length: frame.length } };
    // The slot holds the bytes now; the post (which reserves the ports) runs at t0 in virtual-time order.
    this.postAt(device.now, () => qp.postSend(wr));
  }

  /** A control envelope from inside progress: never blocks; sent later at its due time if no slot is free. */
  postControl(destWorld: number, env: Envelope): void {
    const slot = this.env.pool.takeSendSlot();
    if (slot === undefined) {
      this.backlog.push({ destWorld, env, time: this.env.device.now });
      return;
    }
    this.postSend(destWorld, slot, env);
    this.env.ctrl.noteActivity();
  }

  /**
   * RDMA-reads `length` bytes of `destWorld`'s registration into `landing`; `done(status, time)` on
   * completion. With exact timing the read's post says so to the other ranks as soon as its times are
   * fixed, before its bytes move: the copy of a large message is most of a rendezvous's wall time,
   * and its sender, held back until this rank passes the post's virtual time, goes on meanwhile
   * instead of waiting for it and then for a wake-up (see Scheduler.bytesOnly).
   */
  postRead(destWorld: number, read: RdmaRead, done: (status: number, time: number) => void): void {
    const { scheduler } = this.env;
    const timed = scheduler.exact && this.env.eventsOnly() ? this.bytesOnly : undefined;
    this.postOneSided(destWorld, (qp, wrId) => qp.rdmaRead({
      wrId,
      sge: { lkey: read.lkey, addr: read.landing, length: read.length },
      ...(read.sgl ? { sgl: read.sgl } : {}),
      remoteAddr: read.remoteAddr,
      rkey: read.rkey,
      ...(timed ? { timed } : {}),
    }), done);
  }

  private readonly bytesOnly = (): void => this.env.scheduler.bytesOnly();

  /**
   * Any one-sided post (RDMA read or write, atomic: rma/) to `destWorld`'s queue pair under a fresh
   * work-request id; `done(status, time)` runs as an event at the completion's time.
   */
  postOneSided(destWorld: number, post: (qp: QpPort, wrId: number) => void, done: (status: number, time: number) => void): void {
    const id = this.nextReadId++;
    this.pendingReads.set(id, { done, order: this.env.scheduler.takeOrder() });
    const qp = this.env.qps.to(destWorld);
    const wrId = workRequestId(WorkRequest.READ, id);
    this.postAt(this.env.device.now, () => post(qp, wrId));
    this.env.ctrl.noteActivity();
  }

  /** The post runs at `t0` (now, or when the scheduler allows); the device pays the post's overhead now either way. */
  private postAt(t0: number, post: () => void): void {
    const { device, costs, scheduler } = this.env;
    scheduler.at(t0, () => {
      device.set(t0);
      post();
    });
    device.set(t0 + costs.overheadUs);
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

  /**
   * Takes everything the completion queue holds: send slots come back at once, every other
   * completion becomes an event in the timeline (run at once with --timing fast); then control
   * envelopes that waited for a slot go. True if anything came.
   */
  drain(): boolean {
    this.rethrowBroken(); // every wait and every exact-time program call drains first
    let any = false;
    // The doorbell counts pushes: unchanged since the last empty poll means nothing to poll (one
    // atomic load instead of a poll in the spin loop of every blocking call).
    const cq = this.env.cq;
    let bell = cq.doorbell;
    if (bell !== this.quietBell) {
      const cs = this.polled;
      for (;;) {
        const n = cq.pollInto(cs, 64);
        if (n === 0) {
          // a ring without a completion: an answer from another node released a hold on the
          // watermark (network wire), which rises when the engine retires
          if (bell !== this.quietBell) any = true;
          this.quietBell = bell;
          break;
        }
        any = true;
        for (let i = 0; i < n; i++) this.take(cs[i]!);
        bell = cq.doorbell;
      }
    }
    while (this.backlog.length > 0 && this.env.pool.freeSendSlots > 0) {
      const b = this.backlog.shift()!;
      this.env.device.set(b.time);
      this.postControl(b.destWorld, b.env);
    }
    return any;
  }

  /** Slot `i`'s window (at `addr`), checked against mapping changes since it was made. */
  private window(i: number, addr: number): SpaceWindow {
    let w = this.windows[i];
    if (w === undefined) this.windows[i] = w = this.env.space.view(addr, this.env.pool.slotBytes, 'write');
    else if (!w.valid) w.refresh();
    return w;
  }

  /** A completion: a send slot back, an RDMA read done, or an envelope in a receive slot. */
  private take(c: CompletionPort): void {
    const broken = connectionFailure(this.env.rank, this.env.qps, c, this.env.faults);
    if (broken !== undefined) {
      // the rank fails at the completion's virtual time, as an event among its others
      this.env.scheduler.schedule(c.time, this.env.rank, this.env.scheduler.takeOrder(), () => {
        this.broken ??= broken;
        throw broken;
      });
      return;
    }
    const index = workRequestIndex(c.wrId);
    switch (workRequestKind(c.wrId)) {
      case WorkRequest.SEND_SLOT:
        this.env.pool.returnSendSlot(index);
        if (c.status !== 0) throw new MpiError('MPI_ERR_INTERN', `a bounce-buffer send completed with adapter status ${c.status}`);
        return;
      case WorkRequest.READ: {
        const read = this.pendingReads.get(index);
        if (!read) throw new MpiError('MPI_ERR_INTERN', `RDMA read completion for unknown request ${index}`);
        this.pendingReads.delete(index);
        const { status, time } = c; // c is reused by the next poll
        this.env.scheduler.schedule(time, this.env.rank, read.order, () => read.done(status, time));
        return;
      }
    }
    if (c.status !== 0) throw new MpiError('MPI_ERR_INTERN', `a bounce-buffer receive completed with adapter status ${c.status}`);
    // The slot is copied out and posted again at once (slots are credits, not simulated time);
    // what the envelope means is an event at its arrival time.
    const { pool, space } = this.env;
    const addr = pool.recvSlotAddr(index);
    const w = this.window(index, addr);
    // the one copy the message needs: the slot is posted again at once
    const bytes = w.contiguous ? w.bytes.slice(0, c.byteLength) : space.read(addr, c.byteLength);
    this.postRecvSlot(index);
    const env = decodeEnvelope(bytes);
    const time = c.time; // c is reused by the next poll
    this.env.scheduler.schedule(time, env.from, env.seq, () => this.env.deliver(env, bytes.subarray(ENVELOPE_BYTES), time));
  }
}
