import type { RemoteAddressSpace } from '@tsmpi/vm';
import type { Adapter } from '../adapter.js';
import { Opcode, RNR_INFINITE, Status } from '../constants.js';
import { fatalStatus, linkCaused, markError } from '../qp-error.js';
import { latencyUs, odpFaultCost, rnrDeliveryTime, transferTimes } from '../cost/formulas.js';
import { dmaCopy } from '../dma/copy.js';
import { deliverSend } from '../dma/deliver.js';
import { checkKey, NEED_LOCAL_WRITE, NEED_REMOTE_ATOMIC, NEED_REMOTE_READ, NEED_REMOTE_WRITE } from '../mr/table.js';
import { pushCompletion } from '../queues/completion-queue.js';
import { takeOrPark } from '../queues/receive-queue.js';
import {
  Q_DOMAIN, Q_RECV_CQ, Q_REMOTE_NODE, Q_REMOTE_QPN, Q_RQ, Q_SEND_CQ, Q_STATE, QP_STRIDE, QpState,
} from '../shared/layout.js';
import { PORT_RX, PORT_TX } from '../shared/port.js';
import { Counter, bump } from '../stats.js';
import type { DomainSpaces } from './domain-spaces.js';
import { ATOMIC_CAS_FLAG, Data, Done, DoneBits, FrameType, FrameWriter, Op, Operands, type FrameReader } from './frames.js';
import { joinParts } from './connection.js';
import { ATOMIC_BYTES, dmaAtomic } from '../dma/atomic.js';
import { PayloadSend, completeFrame } from './payload-send.js';

/** Send a frame (and its payload) to node `node` over its connection. */
export type Reply = (node: number, frame: Uint8Array, payload?: Uint8Array) => void;

/**
 * What the network thread of a node process does with the frames it receives, against this node's
 * adapter, memory and port, in the same order of checks and with the same transferTimes() as the
 * initiator's thread does in one process (queue-pair.ts, deliver.ts):
 * - the responder's half of SEND, WRITE and READ;
 * - the initiator's half of the answers (COMPLETE, READ_DATA): counters and completions of this
 *   node's QPs.
 * Every answer carries the operation's sequence number; the wire forgets a pending operation when
 * its FINAL answer arrives.
 */
export class NetworkResponder {
  private readonly L: number;

  constructor(private readonly adapter: Adapter, private readonly spaces: DomainSpaces, private readonly reply: Reply) {
    this.L = latencyUs(adapter.cost, false);
  }

  // ---------------------------------------------------------------- responder half

  /**
   * An operation this node could not serve (its arena or a table full: one process would have
   * thrown at the post): its initiator still gets an answer, REMOTE_OPERATION_ERROR, never silence.
   */
  refuse(f: FrameReader): void {
    const opcode = f.type === FrameType.SEND ? Opcode.SEND : f.type === FrameType.WRITE ? Opcode.RDMA_WRITE
      : f.type === FrameType.READ ? Opcode.RDMA_READ : f.type === FrameType.ATOMIC
        ? ((f.u8(Op.FLAGS) & ATOMIC_CAS_FLAG) !== 0 ? Opcode.COMP_SWAP : Opcode.FETCH_ADD) : undefined;
    if (opcode === undefined) return;
    this.reply(f.u32(Op.SRC_NODE), completeFrame({ qpNum: f.u32(Op.SRC_QPN), seq: f.f64(Op.SEQ), wrId: f.f64(Op.WR_ID) }, opcode,
      Status.REMOTE_OPERATION_ERROR, DoneBits.PUSH | DoneBits.FINAL, f.f64(Op.T0) + this.adapter.cost.overheadUs + 2 * this.L,
      f.u32(Op.LENGTH)));
  }

  send(f: FrameReader, payload: Uint8Array[]): void {
    const o = this.op(f);
    const cost = this.adapter.cost;
    const st = this.adapter.state;
    if (!this.alive(o)) {
      const alone = transferTimes(cost, 'send', o.length, o.t0, false);
      return this.done(o, Opcode.SEND, Status.RETRY_EXCEEDED, DoneBits.PUSH | DoneBits.FINAL, alone.arrive + this.L, o.length);
    }
    const domainId = st.qps[o.row + Q_DOMAIN]!;
    const space = this.space(domainId); // before anything changes: it may have to wait for the domain's announcement
    const start = f.f64(Op.START);
    const t = transferTimes(cost, 'send', o.length, o.t0, false, 0,
      { transmit: () => start, receive: (ready, d) => st.port.reserve(PORT_RX, ready, d) });
    const rq = st.qps[o.row + Q_RQ]!;
    const immData = f.f64(Op.IMM);
    const srcChunks = f.u32(Op.SRC_CHUNKS);
    let got = takeOrPark(st, rq, undefined);
    if (got === 'none' && o.rnrRetry === RNR_INFINITE) {
      // Park it with its bytes in the arena: the receiver's thread delivers it at its next post.
      const payloadAt = st.arena.alloc(Math.max(1, o.length), 'a parked send from another node');
      const parked = new Uint8Array(st.arena.f64.buffer, payloadAt * 8, o.length);
      let at = 0;
      for (const p of payload) {
        parked.set(p, at);
        at += p.length;
      }
      got = takeOrPark(st, rq, { srcNode: o.srcNode, srcQpn: o.srcQpn, dstQpn: o.dstQpn, lkey: 0, addr: 0, length: o.length,
        wrId: o.wrId, immData, arrive: t.arrive, signaled: o.signaled, remote: { payloadAt, srcChunks, seq: o.seq } });
      if (got !== 'parked') st.arena.free(payloadAt, Math.max(1, o.length)); // a receive came in meanwhile
    }
    if (got === 'parked') return this.done(o, Opcode.SEND, Status.SUCCESS, DoneBits.RNR_PARKED, 0, o.length);
    if (got === 'none') {
      return this.done(o, Opcode.SEND, Status.RETRY_EXCEEDED, DoneBits.PUSH | DoneBits.FINAL | DoneBits.RNR_EXCEEDED,
        t.arrive + o.rnrRetry * cost.rnrTimerUs + this.L, o.length);
    }
    deliverSend(cost,
      new PayloadSend({ nodeId: o.srcNode, qpNum: o.srcQpn, seq: o.seq, wrId: o.wrId, signaled: o.signaled }, payload, o.length,
        immData, srcChunks, this.reply),
      { state: st, memory: this.adapter.memory, space, nodeId: this.adapter.nodeId, domainId,
        qpNum: o.dstQpn, recvCq: st.qps[o.row + Q_RECV_CQ]! },
      got, rnrDeliveryTime(cost, t.arrive, got.postedAt));
  }

  write(f: FrameReader, payload: Uint8Array[]): void {
    const o = this.op(f);
    const cost = this.adapter.cost;
    const st = this.adapter.state;
    const nak = o.t0 + cost.overheadUs + 2 * this.L;
    const fail = (status: number): void => this.done(o, Opcode.RDMA_WRITE, status, DoneBits.PUSH | DoneBits.FINAL, nak, o.length);
    if (!this.alive(o)) return fail(Status.RETRY_EXCEEDED);
    const domainId = st.qps[o.row + Q_DOMAIN]!;
    const space = this.space(domainId);
    let faultUs = 0;
    if (o.length > 0) {
      const rkey = f.u32(Op.RKEY);
      const addr = f.f64(Op.IMM);
      const slot = checkKey(st, rkey, 'rkey', domainId, addr, o.length, NEED_REMOTE_WRITE);
      if (typeof slot !== 'number') return fail(Status.REMOTE_ACCESS_ERROR);
      const out = dmaCopy({ parts: payload }, { state: st, memory: this.adapter.memory, space, nodeId: this.adapter.nodeId, slot,
        key: rkey, which: 'rkey', addr, length: o.length, write: true }, cost.odpFaultChunkBytes);
      if (!out.ok) return fail(Status.REMOTE_ACCESS_ERROR);
      faultUs = odpFaultCost(cost, out.faultChunks + f.u32(Op.SRC_CHUNKS));
    }
    const start = f.f64(Op.START);
    const t = transferTimes(cost, 'write', o.length, o.t0, false, faultUs,
      { transmit: () => start, receive: (ready, d) => st.port.reserve(PORT_RX, ready, d) });
    this.done(o, Opcode.RDMA_WRITE, Status.SUCCESS, DoneBits.FINAL | (o.signaled ? DoneBits.PUSH : 0), t.complete, o.length);
  }

  read(f: FrameReader): void {
    const o = this.op(f);
    const cost = this.adapter.cost;
    const st = this.adapter.state;
    const nak = o.t0 + cost.overheadUs + 2 * this.L;
    const fail = (status: number): void => this.done(o, Opcode.RDMA_READ, status, DoneBits.PUSH | DoneBits.FINAL, nak, 0);
    if (!this.alive(o)) return fail(Status.RETRY_EXCEEDED);
    const domainId = st.qps[o.row + Q_DOMAIN]!;
    const space = this.space(domainId);
    const data = new Uint8Array(o.length);
    let srcChunks = 0;
    if (o.length > 0) {
      const rkey = f.u32(Op.RKEY);
      const addr = f.f64(Op.IMM);
      const slot = checkKey(st, rkey, 'rkey', domainId, addr, o.length, NEED_REMOTE_READ);
      if (typeof slot !== 'number') return fail(Status.REMOTE_ACCESS_ERROR);
      const out = dmaCopy({ state: st, memory: this.adapter.memory, space, nodeId: this.adapter.nodeId,
        slot, key: rkey, which: 'rkey', addr, length: o.length, write: false }, { bytes: data }, cost.odpFaultChunkBytes);
      if (!out.ok) return fail(Status.REMOTE_ACCESS_ERROR);
      srcChunks = out.faultChunks;
    }
    this.sendData(f, o, Opcode.RDMA_READ, srcChunks, data);
  }

  /** READ_DATA: the data leaves our transmit side once the request is here; the initiator prices the rest. */
  private sendData(f: FrameReader, o: { srcNode: number; srcQpn: number; seq: number; wrId: number; t0: number; signaled: boolean },
    opcode: number, srcChunks: number, data: Uint8Array): void {
    const st = this.adapter.state;
    const t = transferTimes(this.adapter.cost, 'read', data.length, o.t0, false, 0,
      { transmit: (ready, d) => st.port.reserve(PORT_TX, ready, d), receive: (ready) => ready });
    const w = new FrameWriter(FrameType.READ_DATA, Data.HEADER + data.length, new Uint8Array(4 + Data.HEADER))
      .u8(Data.SIGNALED, o.signaled ? 1 : 0).u8(Data.OPCODE, opcode).u32(Data.QPN, o.srcQpn).f64(Data.SEQ, o.seq)
      .f64(Data.WR_ID, o.wrId).f64(Data.T0, o.t0).f64(Data.START, t.start).u32(Data.LKEY, f.u32(Op.LKEY))
      .u32(Data.SRC_CHUNKS, srcChunks).f64(Data.LOCAL_ADDR, f.f64(Op.LOCAL_ADDR)).u32(Data.LENGTH, data.length);
    this.reply(o.srcNode, w.bytes, data);
  }

  /** The responder's half of an atomic, as one process does it; the old value goes back as READ_DATA. */
  atomic(f: FrameReader, operands: Uint8Array[]): void {
    const o = this.op(f);
    const cost = this.adapter.cost;
    const st = this.adapter.state;
    const cas = (f.u8(Op.FLAGS) & ATOMIC_CAS_FLAG) !== 0;
    const opcode = cas ? Opcode.COMP_SWAP : Opcode.FETCH_ADD;
    const nak = o.t0 + cost.overheadUs + 2 * this.L;
    const fail = (status: number): void => this.done(o, opcode, status, DoneBits.PUSH | DoneBits.FINAL, nak, 0);
    if (!this.alive(o)) return fail(Status.RETRY_EXCEEDED);
    const domainId = st.qps[o.row + Q_DOMAIN]!;
    const space = this.space(domainId);
    const addr = f.f64(Op.IMM);
    if (addr % ATOMIC_BYTES !== 0) return fail(Status.REMOTE_INVALID_REQUEST);
    const rkey = f.u32(Op.RKEY);
    const slot = checkKey(st, rkey, 'rkey', domainId, addr, ATOMIC_BYTES, NEED_REMOTE_ATOMIC);
    if (typeof slot !== 'number') return fail(Status.REMOTE_ACCESS_ERROR);
    const ops = joinParts(operands);
    const v = new DataView(ops.buffer, ops.byteOffset, Operands.BYTES);
    const out = dmaAtomic({ state: st, memory: this.adapter.memory, space, nodeId: this.adapter.nodeId, slot, key: rkey,
      which: 'rkey', addr, length: ATOMIC_BYTES, write: true }, cas ? 'compare-swap' : 'fetch-add',
    v.getBigInt64(Operands.COMPARE_ADD, true), v.getBigInt64(Operands.SWAP, true), cost.odpFaultChunkBytes);
    if (!out.ok) return fail(Status.REMOTE_ACCESS_ERROR);
    const old = new Uint8Array(ATOMIC_BYTES);
    new DataView(old.buffer).setBigInt64(0, out.old, true);
    this.sendData(f, o, opcode, out.faultChunks, old);
  }

  // ---------------------------------------------------------------- initiator half of the answers

  /** COMPLETE for one of our QPs: its counters, and its completion when asked. Returns the frame's DoneBits. */
  complete(f: FrameReader): number {
    const st = this.adapter.state;
    const qpn = f.u32(Done.QPN);
    const bits = f.u8(Done.BITS);
    if (!this.ours(qpn)) return bits; // the QP went away meanwhile (its domain closed)
    const row = qpn * QP_STRIDE;
    const d = st.qps[row + Q_DOMAIN]!;
    const bytes = f.f64(Done.BYTES);
    const status = f.u8(Done.STATUS);
    const opcode = f.u8(Done.OPCODE);
    const c = st.counters;
    if (status !== Status.SUCCESS) uncount(c, d, opcode, bytes);
    if (bits & DoneBits.RNR_PARKED) bump(c, d, Counter.rnrParked);
    if (bits & DoneBits.RNR_EXCEEDED) bump(c, d, Counter.rnrExceeded);
    if (bits & DoneBits.RNR_DELIVERED) bump(c, d, Counter.rnrDelivered);
    // an error answer is fatal for the initiator's QP (verbs), marked before its rank can see the completion;
    // its rank's next post there flushes what is still outstanding
    if (fatalStatus(status)) markError(st, qpn, status, (bits & DoneBits.LINK_DOWN) !== 0);
    if (bits & DoneBits.PUSH) {
      pushCompletion(st, st.qps[row + Q_SEND_CQ]!, { status, opcode, byteLength: status === Status.SUCCESS ? bytes : 0,
        wrId: f.f64(Done.WR_ID), qpNum: qpn, immData: -1, time: f.f64(Done.TIME) });
    }
    return bits;
  }

  /** READ_DATA for one of our QPs: land the bytes in its region, then price and complete as one process does. */
  readData(f: FrameReader, payload: Uint8Array[]): void {
    const st = this.adapter.state;
    const cost = this.adapter.cost;
    const qpn = f.u32(Data.QPN);
    if (!this.ours(qpn)) return;
    const row = qpn * QP_STRIDE;
    const d = st.qps[row + Q_DOMAIN]!;
    const space = this.space(d);
    const n = f.u32(Data.LENGTH);
    const t0 = f.f64(Data.T0);
    const wrId = f.f64(Data.WR_ID);
    const cq = st.qps[row + Q_SEND_CQ]!;
    const opcode = f.u8(Data.OPCODE);
    const localError = (): void => {
      markError(st, qpn, Status.LOCAL_PROTECTION_ERROR);
      pushCompletion(st, cq, { status: Status.LOCAL_PROTECTION_ERROR, opcode, byteLength: 0, wrId, qpNum: qpn, immData: -1, time: t0 + cost.overheadUs });
    };
    let faultUs = 0;
    if (n > 0) {
      const lkey = f.u32(Data.LKEY);
      const addr = f.f64(Data.LOCAL_ADDR);
      const slot = checkKey(st, lkey, 'lkey', d, addr, n, NEED_LOCAL_WRITE);
      if (typeof slot !== 'number') return localError();
      const out = dmaCopy({ parts: payload }, { state: st, memory: this.adapter.memory, space,
        nodeId: this.adapter.nodeId, slot, key: lkey, which: 'lkey', addr, length: n, write: true }, cost.odpFaultChunkBytes);
      if (!out.ok) return localError();
      faultUs = odpFaultCost(cost, out.faultChunks + f.u32(Data.SRC_CHUNKS));
    }
    const start = f.f64(Data.START);
    const t = transferTimes(cost, 'read', n, t0, false, faultUs,
      { transmit: () => start, receive: (ready, dur) => st.port.reserve(PORT_RX, ready, dur) });
    if (opcode === Opcode.RDMA_READ) {
      bump(st.counters, d, Counter.readOps);
      bump(st.counters, d, Counter.readBytes, n);
    } else {
      bump(st.counters, d, Counter.atomicOps);
    }
    if (f.u8(Data.SIGNALED) === 1) {
      pushCompletion(st, cq, { status: Status.SUCCESS, opcode, byteLength: n, wrId, qpNum: qpn, immData: -1,
        time: t.complete });
    }
  }

  // ---------------------------------------------------------------- internals

  private op(f: FrameReader) {
    const flags = f.u8(Op.FLAGS);
    const dstQpn = f.u32(Op.DST_QPN);
    return {
      srcNode: f.u32(Op.SRC_NODE), srcQpn: f.u32(Op.SRC_QPN), dstQpn, row: dstQpn * QP_STRIDE, seq: f.f64(Op.SEQ),
      wrId: f.f64(Op.WR_ID), t0: f.f64(Op.T0), length: f.u32(Op.LENGTH), signaled: (flags & 1) === 1, rnrRetry: (flags >> 1) & 7,
    };
  }

  /** The target QP exists here and is connected back to the initiator's (else its transport gives up). */
  private alive(o: { srcNode: number; srcQpn: number; dstQpn: number; row: number }): boolean {
    const qps = this.adapter.state.qps;
    return o.dstQpn >= 1 && o.dstQpn <= this.adapter.state.limits.maxQueuePairs &&
      Atomics.load(qps, o.row + Q_STATE) === QpState.CONNECTED && qps[o.row + Q_REMOTE_QPN] === o.srcQpn &&
      qps[o.row + Q_REMOTE_NODE] === o.srcNode;
  }

  private ours(qpn: number): boolean {
    const st = this.adapter.state;
    return qpn >= 1 && qpn <= st.limits.maxQueuePairs && Atomics.load(st.qps, qpn * QP_STRIDE + Q_STATE) !== QpState.FREE;
  }

  private done(o: { srcNode: number; srcQpn: number; dstQpn: number; seq: number; wrId: number }, opcode: number, status: number,
    bits: number, time: number, bytes: number): void {
    // a target the link took down says so, so the initiator's failure names the link, not only the dead QP
    if (status === Status.RETRY_EXCEEDED && this.ours(o.dstQpn) && linkCaused(this.adapter.state, o.dstQpn)) bits |= DoneBits.LINK_DOWN;
    this.reply(o.srcNode, completeFrame({ qpNum: o.srcQpn, seq: o.seq, wrId: o.wrId }, opcode, status, bits, time, bytes));
  }

  /**
   * A domain's page table, needed only by a backend whose regions fault (ODP). Each handler asks
   * for it before it changes anything, so the AwaitAnnouncement it may throw leaves no trace.
   */
  private space(domainId: number): RemoteAddressSpace {
    return this.adapter.backend.onDemand ? this.spaces.get(domainId) : NO_FAULTS;
  }
}

/** A SEND or WRITE that failed: take back what its rank counted when it posted it (rank-wire.ts). */
export function uncount(c: BigInt64Array, domainId: number, opcode: number, bytes: number): void {
  if (opcode === Opcode.SEND) {
    bump(c, domainId, Counter.sendOps, -1);
    bump(c, domainId, Counter.sendBytes, -bytes);
  } else if (opcode === Opcode.RDMA_WRITE) {
    bump(c, domainId, Counter.writeOps, -1);
    bump(c, domainId, Counter.writeBytes, -bytes);
  }
}

/** The page table a frozen-translation backend is handed: it never faults, so it never reads it. */
const NO_FAULTS = new Proxy({}, {
  get: () => {
    throw new Error('network responder: a pinning region asked for a page fault (its translations are frozen)');
  },
}) as RemoteAddressSpace;
