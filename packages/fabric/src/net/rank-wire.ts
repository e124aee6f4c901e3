import { BroadcastChannel } from 'node:worker_threads';
import type { Adapter } from '../adapter.js';
import { Opcode, Status } from '../constants.js';
import { latencyUs, transferTimes, type LinkPorts } from '../cost/formulas.js';
import { holdCompletion } from '../queues/completion-queue.js';
import { dmaCopy } from '../dma/copy.js';
import type { SendSource } from '../dma/deliver.js';
import type { ProtectionDomain } from '../domain.js';
import { InvalidArgument } from '../errors.js';
import { checkKey, NEED_LOCAL_WRITE, NEED_NONE } from '../mr/table.js';
import type { QueuePair } from '../queue-pair.js';
import type { ParkedSend } from '../queues/receive-queue.js';
import { PORT_TX } from '../shared/port.js';
import { Counter, bump } from '../stats.js';
import type { AtomicWorkRequest, RdmaWorkRequest, SendWorkRequest, Sge } from '../types.js';
import { ATOMIC_BYTES, type AtomicOp } from '../dma/atomic.js';
import type { RemoteNode, Wire } from '../wire.js';
import { ATOMIC_CAS_FLAG, DoneBits, FrameType, FrameWriter, MAX_BODY_BYTES, Op, Operands } from './frames.js';
import { DIRECT_MAX_BYTES, IDLE, SocketLanes } from './lanes.js';
import { Outbox } from './outbox.js';
import { PayloadSend, completeFrame } from './payload-send.js';
import type { NetworkWireHandle } from './types.js';

/** A rank's announcement to its network thread: the page table behind a domain id. */
export interface DomainAnnouncement {
  domainId: number;
  space: unknown;
}

/**
 * The network wire as a rank thread sees it: its own node's adapter in-process, every other node
 * a RemotePort that writes the initiator's half of each post into the outbox.
 */
export class RankWire implements Wire {
  readonly kind = 'network';
  /** @internal */
  readonly outbox: Outbox;
  private readonly lanes: SocketLanes;
  private readonly channel: BroadcastChannel;
  private readonly ports = new Map<number, RemotePort>();

  /** `origin`: who posts through this wire, in the sequencer's numbering (the world rank); see frames.ts Op.ORIGIN. */
  constructor(handle: NetworkWireHandle, private readonly adapter: Adapter, private readonly origin = 0) {
    if (handle?.kind !== 'network-wire') throw new InvalidArgument('NetworkWire.attach: not a network wire handle (pass wire.handle from the node process)');
    if (handle.nodeId !== adapter.nodeId) {
      throw new InvalidArgument(`NetworkWire.attach: the wire is node ${handle.nodeId}'s but the adapter is node ${adapter.nodeId}'s; attach this node's adapter`);
    }
    this.outbox = new Outbox(handle.outbox);
    this.lanes = new SocketLanes(handle.lanes);
    this.channel = new BroadcastChannel(handle.channel);
    this.channel.unref();
  }

  reach(nodeId: number): Adapter | RemoteNode {
    if (nodeId === this.adapter.nodeId) return this.adapter;
    if (!Number.isInteger(nodeId) || nodeId < 0) throw new InvalidArgument(`network wire: node id must be an integer >= 0, got ${nodeId}`);
    return this.port(nodeId);
  }

  private port(nodeId: number): RemotePort {
    let p = this.ports.get(nodeId);
    if (p === undefined) this.ports.set(nodeId, (p = new RemotePort(nodeId, this.outbox, this.lanes, this.adapter, this.origin, this.send)));
    return p;
  }

  /** A frame (not an operation) to node `nodeId`, in order with this rank's other frames to it. */
  private readonly send = (nodeId: number, frame: Uint8Array): void => this.port(nodeId).emit(frame, false);

  opened(pd: ProtectionDomain): void {
    // The network thread faults this domain's ODP regions through its page table (responder side,
    // and the local half of an RDMA read): announce it before any peer can know the domain exists.
    const a: DomainAnnouncement = { domainId: pd.id, space: pd.space.handle };
    this.channel.postMessage(a);
  }
}

/**
 * The initiator's half of a post to a QP on another node, on the rank's thread: the same local
 * checks and clock as in one process, the local transmit port reserved here, the local bytes
 * gathered through this domain's region (its backend's translation: stale or faulting). The
 * responder's half runs in the far process (responder.ts).
 */
class RemotePort implements RemoteNode {
  readonly kind = 'remote';
  /** Reserves our transmit side; the receive side is the far node's, reserved there. */
  private readonly transmitHere: LinkPorts;

  /** The earliest a completion of a SEND or WRITE can come back: its data crosses the wire, then the ack does. */
  private readonly ackUs: number;
  /** Where this rank's last record for this node ends in the outbox (undefined: none yet); see emit. */
  private queuedUntil: number | undefined;
  /** Where a small frame is built before it is written onto the socket (reused: the write copies it). */
  private scratch = new Uint8Array(4 + Op.HEADER + 256);

  constructor(readonly nodeId: number, private readonly outbox: Outbox, private readonly lanes: SocketLanes, adapter: Adapter,
    private readonly origin: number, private readonly sendTo: (node: number, frame: Uint8Array) => void) {
    const port = adapter.state.port;
    this.ackUs = adapter.cost.overheadUs + 2 * latencyUs(adapter.cost, false);
    this.transmitHere = { transmit: (ready, d) => port.reserve(PORT_TX, ready, d), receive: (ready) => ready };
  }

  postSend(qp: QueuePair, wr: SendWorkRequest, immData: number, signaled: boolean): void {
    const at = this.posted(qp, wr.sge.length, 'postSend');
    const shipped = this.ship(FrameType.SEND, qp, wr.wrId, at.t0, signaled, wr.sge, (f) => f.f64(Op.IMM, immData));
    if (!shipped) qp.complete(Opcode.SEND, wr.wrId, Status.LOCAL_PROTECTION_ERROR, 0, at.posted, true);
  }

  rdma(qp: QueuePair, wr: RdmaWorkRequest, op: 'write' | 'read'): void {
    if (wr.sgl !== undefined && wr.sgl.length > 1) return this.rdmaList(qp, wr, op);
    const sge = wr.sgl?.[0] ?? wr.sge;
    const signaled = wr.signaled !== false;
    const at = this.posted(qp, sge.length, op === 'write' ? 'rdmaWrite' : 'rdmaRead');
    if (op === 'write') {
      const shipped = this.ship(FrameType.WRITE, qp, wr.wrId, at.t0, signaled, sge,
        (f) => f.f64(Op.IMM, wr.remoteAddr).u32(Op.RKEY, wr.rkey));
      if (!shipped) qp.complete(Opcode.RDMA_WRITE, wr.wrId, Status.LOCAL_PROTECTION_ERROR, 0, at.posted, true);
      return;
    }
    if (sge.length > 0 && typeof checkKey(qp.state, sge.lkey, 'lkey', qp.pd.id, sge.addr, sge.length, NEED_LOCAL_WRITE) !== 'number') {
      return qp.complete(Opcode.RDMA_READ, wr.wrId, Status.LOCAL_PROTECTION_ERROR, 0, at.posted, true);
    }
    const f = this.header(new FrameWriter(FrameType.READ, Op.HEADER, new Uint8Array(4 + Op.HEADER)), qp, wr.wrId, at.t0, signaled, sge.length)
      .f64(Op.IMM, wr.remoteAddr).u32(Op.RKEY, wr.rkey).u32(Op.LKEY, sge.lkey).f64(Op.LOCAL_ADDR, sge.addr);
    // its data lands on this node's port in the order of t0 (READ_DATA is sequenced by it): hold at t0
    holdCompletion(qp.state, qp.sendCqId, at.t0);
    this.emit(f.bytes, true);
  }

  /**
   * A scatter/gather list across node processes: one frame per element against its stretch of the
   * remote range, only the last signaled (an error completes whichever it hits). Each element pays a
   * post's overhead here, where one process charges cost.sgeUs per extra element.
   */
  private rdmaList(qp: QueuePair, wr: RdmaWorkRequest, op: 'write' | 'read'): void {
    const list = wr.sgl!;
    let at = wr.remoteAddr;
    list.forEach((e, i) => {
      const last = i === list.length - 1;
      this.rdma(qp, { wrId: wr.wrId, sge: e, remoteAddr: at, rkey: wr.rkey, signaled: last ? wr.signaled !== false : false }, op);
      at += e.length;
    });
  }

  atomic(qp: QueuePair, wr: AtomicWorkRequest, op: AtomicOp): void {
    const opcode = op === 'fetch-add' ? Opcode.FETCH_ADD : Opcode.COMP_SWAP;
    const { sge } = wr;
    const at = this.posted(qp, ATOMIC_BYTES, op === 'fetch-add' ? 'atomicFetchAdd' : 'atomicCompareSwap');
    if (sge.length !== ATOMIC_BYTES) return qp.complete(opcode, wr.wrId, Status.LOCAL_LENGTH_ERROR, 0, at.posted, true);
    if (typeof checkKey(qp.state, sge.lkey, 'lkey', qp.pd.id, sge.addr, ATOMIC_BYTES, NEED_LOCAL_WRITE) !== 'number') {
      return qp.complete(opcode, wr.wrId, Status.LOCAL_PROTECTION_ERROR, 0, at.posted, true);
    }
    const f = this.header(new FrameWriter(FrameType.ATOMIC, Op.HEADER + Operands.BYTES, new Uint8Array(4 + Op.HEADER + Operands.BYTES)),
      qp, wr.wrId, at.t0, wr.signaled !== false, ATOMIC_BYTES)
      .f64(Op.IMM, wr.remoteAddr).u32(Op.RKEY, wr.rkey).u32(Op.LKEY, sge.lkey).f64(Op.LOCAL_ADDR, sge.addr);
    if (op === 'compare-swap') f.u8(Op.FLAGS, f.bytes[5]! | ATOMIC_CAS_FLAG);
    const operands = new DataView(f.bytes.buffer, 4 + Op.HEADER, Operands.BYTES);
    operands.setBigInt64(Operands.COMPARE_ADD, BigInt.asIntN(64, wr.compareAdd), true);
    operands.setBigInt64(Operands.SWAP, BigInt.asIntN(64, wr.swap ?? 0n), true);
    holdCompletion(qp.state, qp.sendCqId, at.t0);
    this.emit(f.bytes, true);
  }

  parkedSource(p: ParkedSend, pd: ProtectionDomain): SendSource {
    const r = p.remote!;
    const arena = pd.adapter.state.arena;
    const bytes = new Uint8Array(arena.f64.buffer, r.payloadAt * 8, p.length);
    return new PayloadSend({ nodeId: p.srcNode, qpNum: p.srcQpn, seq: r.seq, wrId: p.wrId, signaled: p.signaled }, [bytes],
      p.length, p.immData, r.srcChunks, this.sendTo, DoneBits.RNR_DELIVERED,
      () => arena.free(r.payloadAt, Math.max(1, p.length)));
  }

  failParked(p: ParkedSend, pd: ProtectionDomain, time: number): void {
    const r = p.remote!;
    pd.adapter.state.arena.free(r.payloadAt, Math.max(1, p.length));
    this.sendTo(p.srcNode, completeFrame({ qpNum: p.srcQpn, seq: r.seq, wrId: p.wrId }, Opcode.SEND,
      Status.RETRY_EXCEEDED, DoneBits.PUSH | DoneBits.FINAL, time, p.length));
  }

  /** The post's overhead on the rank's clock, as in one process: t0, and the clock after it. */
  private posted(qp: QueuePair, length: number, what: string): { t0: number; posted: number } {
    if (length > MAX_BODY_BYTES - Op.HEADER) {
      throw new InvalidArgument(`${what}: ${length} bytes is more than one network frame carries (${MAX_BODY_BYTES - Op.HEADER}); split the transfer`);
    }
    const clock = qp.pd.clock;
    const t0 = clock.now;
    const posted = t0 + qp.pd.adapter.cost.overheadUs;
    clock.advanceTo(posted);
    return { t0, posted };
  }

  /**
   * A SEND or WRITE: the local bytes of `sge`, gathered through its region (its backend's
   * translation: stale or faulting) straight into an outbox record when it fits, then this side's
   * transmit port, then the header. False when the key or the range is bad (nothing was shipped).
   */
  private ship(type: number, qp: QueuePair, wrId: number, t0: number, signaled: boolean, sge: Sge,
    fill: (f: FrameWriter) => void): boolean {
    const n = sge.length;
    const slot = n === 0 ? 0 : checkKey(qp.state, sge.lkey, 'lkey', qp.pd.id, sge.addr, n, NEED_NONE);
    if (typeof slot !== 'number') return false;
    const total = 8 + Op.HEADER + n;
    // A small frame is built aside, to go straight onto the socket; a larger one in place in the outbox.
    const direct = this.direct(total);
    const frame = direct ? this.frameBuffer(4 + Op.HEADER + n) : undefined;
    const off = direct ? undefined : this.outbox.reserve(total);
    const ring = this.outbox.bytes;
    const data = frame !== undefined ? frame.subarray(4 + Op.HEADER)
      : off === undefined ? new Uint8Array(n) : ring.subarray(off + 8 + Op.HEADER, off + total);
    let chunks = 0;
    if (n > 0) {
      const pd = qp.pd;
      const out = dmaCopy({ state: qp.state, memory: pd.adapter.memory, space: pd.remoteView(), nodeId: pd.adapter.nodeId, slot,
        key: sge.lkey, which: 'lkey', addr: sge.addr, length: n, write: false }, { bytes: data }, pd.adapter.cost.odpFaultChunkBytes);
      if (!out.ok) {
        if (off !== undefined) this.outbox.abort();
        return false;
      }
      chunks = out.faultChunks;
    }
    // The transmit side is taken as the bytes leave; the far side prices the rest (and its ODP faults).
    const t = transferTimes(qp.pd.adapter.cost, type === FrameType.SEND ? 'send' : 'write', n, t0, false, 0, this.transmitHere);
    const f = frame !== undefined ? new FrameWriter(type, Op.HEADER + n, frame)
      : off === undefined ? new FrameWriter(type, Op.HEADER + n, new Uint8Array(4 + Op.HEADER))
        : new FrameWriter(type, Op.HEADER + n, ring, off + 4);
    fill(this.header(f, qp, wrId, t0, signaled, n).f64(Op.START, t.start).u32(Op.SRC_CHUNKS, chunks));
    holdCompletion(qp.state, qp.sendCqId, t0 + this.ackUs);
    if (frame !== undefined) {
      this.emit(frame, true);
    } else if (off === undefined) {
      this.queuedUntil = this.outbox.put(this.nodeId, f.bytes, data);
    } else {
      new DataView(ring.buffer, ring.byteOffset + off, 4).setUint32(0, this.nodeId, true);
      this.queuedUntil = this.outbox.commit(total);
    }
    // Counted now, as one process counts it before the post returns; a failure's COMPLETE takes it back.
    const send = type === FrameType.SEND;
    bump(qp.state.counters, qp.pd.id, send ? Counter.sendOps : Counter.writeOps);
    bump(qp.state.counters, qp.pd.id, send ? Counter.sendBytes : Counter.writeBytes, n);
    return true;
  }

  /**
   * Send one whole frame to this node: straight onto its socket when the lane is idle and nothing
   * of this rank's waits in the outbox before it (so its frames stay in order), else through the
   * outbox. `op`: an operation, which the network thread must know before its answer can arrive
   * (a NOTE, ahead of the write).
   */
  emit(frame: Uint8Array, op: boolean): void {
    if (this.direct(4 + frame.length)) {
      if (op) this.outbox.note(this.nodeId, frame, Op.HEADER);
      if (this.lanes.tryWrite(this.nodeId, [frame]) === 'all') return;
    }
    this.queuedUntil = this.outbox.put(this.nodeId, frame);
  }

  /** Whether a record of `bytes` (destination prefix included) may go straight onto the socket now. */
  private direct(bytes: number): boolean {
    return bytes <= DIRECT_MAX_BYTES && this.lanes.has(this.nodeId) && this.lanes.state(this.nodeId) === IDLE &&
      (this.queuedUntil === undefined || ((this.outbox.head - this.queuedUntil) | 0) >= 0);
  }

  private frameBuffer(bytes: number): Uint8Array {
    if (this.scratch.length < bytes) this.scratch = new Uint8Array(Math.max(bytes, 2 * this.scratch.length));
    return this.scratch.subarray(0, bytes);
  }

  private header(f: FrameWriter, qp: QueuePair, wrId: number, t0: number, signaled: boolean, length: number): FrameWriter {
    return f.u8(Op.FLAGS, (signaled ? 1 : 0) | (qp.rnrRetry << 1)).f64(Op.SEQ, this.lanes.nextSeq()).u32(Op.SRC_NODE, qp.pd.adapter.nodeId).u32(Op.SRC_QPN, qp.qpNum)
      .u32(Op.DST_QPN, qp.peer!.qpNum).f64(Op.WR_ID, wrId).f64(Op.T0, t0).f64(Op.IMM, -1).u32(Op.LENGTH, length).u32(Op.ORIGIN, this.origin);
  }

}
