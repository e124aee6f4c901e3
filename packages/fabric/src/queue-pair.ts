import { AddressSpace, type RemoteAddressSpace } from '@tsmpi/vm';
import type { Adapter } from './adapter.js';
import { Opcode, RNR_INFINITE, Status } from './constants.js';
import { latencyUs, odpFaultCost, rnrDeliveryTime, transferTimes, type LinkPorts } from './cost/formulas.js';
import { ATOMIC_BYTES, dmaAtomic, type AtomicOp } from './dma/atomic.js';
import { dmaCopy } from './dma/copy.js';
import { LocalSend, deliverSend } from './dma/deliver.js';
import type { ProtectionDomain } from './domain.js';
import { InvalidArgument, NotConnected } from './errors.js';
import { checkKey, NEED_LOCAL_WRITE, NEED_NONE, NEED_REMOTE_ATOMIC, NEED_REMOTE_READ, NEED_REMOTE_WRITE } from './mr/table.js';
import { lowerWatermark, pushCompletion, type CompletionQueue } from './queues/completion-queue.js';
import { createReceiveQueue, localPark, takeOrPark, type ReceiveQueue } from './queues/receive-queue.js';
import { DEFAULT_RETRY, LinkSchedule, checkRetryBudget, departure, remoteGaveUp } from './link-down.js';
import { clearError, fatalFailure, fatalStatus, flushOutstanding, flushPost, linkCaused, markError, peerErrorText, qpFailure, rowFailure, type QpFailure } from './qp-error.js';
import {
  Q_DOMAIN, Q_RECV_CQ, Q_REMOTE_NODE, Q_REMOTE_QPN, Q_RNR, Q_RQ, Q_SEND_CQ, Q_STATE,
  QP_STRIDE, QpState, R_SHARED, RQ_STRIDE,
} from './shared/layout.js';
import { PORT_RX, PORT_TX, type Port } from './shared/port.js';
import type { AdapterState } from './shared/state.js';
import { Counter, bump } from './stats.js';
import type { AtomicWorkRequest, QpAddress, RdmaWorkRequest, RecvWorkRequest, SendWorkRequest } from './types.js';
import type { RemoteNode } from './wire.js';
import { claimQueuePairRow, writeConnection } from './qp-table.js';
import { checkImm, checkRemote, checkSge, checkSgl, checkWrId, sgeCostUs } from './work-request.js';

export interface QueuePairOptions {
  sendCq: CompletionQueue;
  recvCq: CompletionQueue;
  /** Take receives from this shared receive queue instead of the QP's own. */
  srq?: ReceiveQueue;
  /** Depth of the QP's own receive queue (ignored with srq). Default 256. */
  recvDepth?: number;
  /** Retries when the peer has no receive posted; 'infinite' (verbs 7, the default) parks the send. */
  rnrRetry?: number | 'infinite';
  /** Ack timeout before a retransmission, µs (verbs timeout; default 4.096 µs × 2^14). Matters while the link is down. */
  retryTimeoutUs?: number;
  /** Retransmissions before an operation completes RETRY_EXCEEDED (verbs retry_cnt, 0..7; default 7). */
  retryCount?: number;
}

/** verbs' QP states as tsmpi has them: created (RESET/INIT), connected (RTS), error (ERR). */
export type QpStateName = 'created' | 'connected' | 'error';

/** The connected peer, resolved once at connect(): in this process, or behind the network wire. */
export type Peer = LocalPeer | RemotePeer;

/** A peer whose adapter is attached in this thread: the responder half runs here. */
export interface LocalPeer {
  kind: 'local';
  nodeId: number;
  qpNum: number;
  domainId: number;
  adapter: Adapter;
  /** The peer's page table seen from this thread. */
  space: RemoteAddressSpace;
  /** Data this QP sends or writes: our port's transmit side, then the peer's receive side. */
  outbound: LinkPorts;
  /** Data this QP reads: the peer's transmit side, then our receive side. */
  inbound: LinkPorts;
}

/** A peer owned by another process (network wire): posts go through `node`. */
export interface RemotePeer {
  kind: 'remote';
  nodeId: number;
  qpNum: number;
  domainId: number;
  node: RemoteNode;
}

/** The two port sides one direction of a connection crosses (loopback: both on one adapter). */
class PortPath implements LinkPorts {
  constructor(private readonly from: Port, private readonly to: Port) {}
  transmit(ready: number, duration: number): number {
    return this.from.reserve(PORT_TX, ready, duration);
  }
  receive(ready: number, duration: number): number {
    return this.to.reserve(PORT_RX, ready, duration);
  }
}

/**
 * A reliable-connected queue pair. Posts execute at once on the caller's thread: the responder
 * side runs against the peer's shared tables (see README, "Threads and shared state").
 */
export class QueuePair {
  readonly qpNum: number;
  /** @internal */
  readonly rqId: number;
  /** @internal */
  readonly recvCqId: number;
  /** @internal */
  peer: Peer | undefined;
  /** @internal */
  readonly pd: ProtectionDomain;
  /** @internal */
  readonly state: AdapterState;
  /** @internal */
  readonly sendCqId: number;
  /** @internal 0..6, or RNR_INFINITE */
  readonly rnrRetry: number;
  /** @internal */
  readonly hasSrq: boolean;
  /** Down windows of the link and the retry budget that decides whether an operation waits or fails. */
  private readonly link: LinkSchedule;
  /** Why this QP entered the error state (set on this thread; another thread may only mark the row). */
  private failure: QpFailure | undefined;

  private constructor(pd: ProtectionDomain, qpNum: number, rqId: number, sendCq: number, recvCq: number, rnrRetry: number,
    hasSrq: boolean, link: LinkSchedule) {
    this.link = link;
    this.pd = pd;
    this.state = pd.adapter.state;
    this.qpNum = qpNum;
    this.rqId = rqId;
    this.sendCqId = sendCq;
    this.recvCqId = recvCq;
    this.rnrRetry = rnrRetry;
    this.hasSrq = hasSrq;
  }

  /** @internal use pd.createQueuePair */
  static create(pd: ProtectionDomain, opts: QueuePairOptions): QueuePair {
    const st = pd.adapter.state;
    if (opts?.sendCq === undefined || opts.recvCq === undefined) throw new InvalidArgument('createQueuePair: sendCq and recvCq are required');
    const rnr = opts.rnrRetry ?? 'infinite';
    const rnrRetry = rnr === 'infinite' ? RNR_INFINITE : rnr;
    if (!Number.isInteger(rnrRetry) || rnrRetry < 0 || rnrRetry > RNR_INFINITE) {
      throw new InvalidArgument(`createQueuePair: rnrRetry must be 0..6 or 'infinite' (7), got ${String(rnr)}`);
    }
    const link = new LinkSchedule(checkRetryBudget({ timeoutUs: opts.retryTimeoutUs ?? DEFAULT_RETRY.timeoutUs,
      retryCount: opts.retryCount ?? DEFAULT_RETRY.retryCount }, 'createQueuePair'));
    const rqId = opts.srq !== undefined ? opts.srq.id : createReceiveQueue(st, pd.id, opts.recvDepth ?? 256, false);
    const qpNum = claimQueuePairRow(st, { domainId: pd.id, sendCq: opts.sendCq.id, recvCq: opts.recvCq.id, rq: rqId, rnrRetry });
    return new QueuePair(pd, qpNum, rqId, opts.sendCq.id, opts.recvCq.id, rnrRetry, opts.srq !== undefined, link);
  }

  /**
   * @internal a QP of this domain whose row another thread created on its behalf (connect-on-demand.ts):
   * the same object createQueuePair would have built, read back from the row.
   */
  static attach(pd: ProtectionDomain, qpNum: number, retry: Pick<QueuePairOptions, 'retryTimeoutUs' | 'retryCount'> = {}): QueuePair {
    const st = pd.adapter.state;
    const row = qpNum * QP_STRIDE;
    if (!(qpNum >= 1 && qpNum <= st.limits.maxQueuePairs) || Atomics.load(st.qps, row + Q_STATE) === QpState.FREE ||
      st.qps[row + Q_DOMAIN] !== pd.id) {
      throw new InvalidArgument(`attach: adapter ${pd.adapter.nodeId} has no queue pair ${qpNum} in domain ${pd.id}`);
    }
    const rqId = st.qps[row + Q_RQ]!;
    const shared = st.rqs[rqId * RQ_STRIDE + R_SHARED] === 1;
    const link = new LinkSchedule(checkRetryBudget({ timeoutUs: retry.retryTimeoutUs ?? DEFAULT_RETRY.timeoutUs,
      retryCount: retry.retryCount ?? DEFAULT_RETRY.retryCount }, 'attach'));
    return new QueuePair(pd, qpNum, rqId, st.qps[row + Q_SEND_CQ]!, st.qps[row + Q_RECV_CQ]!, st.qps[row + Q_RNR]!, shared, link);
  }

  /** Hand this to the peer (out of band) for its connect(). */
  get address(): QpAddress {
    return { nodeId: this.pd.adapter.nodeId, qpNum: this.qpNum, domainId: this.pd.id, space: this.pd.space.handle };
  }

  get connected(): boolean {
    return this.peer !== undefined && this.qpState === 'connected';
  }

  /** The QP's state (verbs: RESET/INIT → 'created', RTS → 'connected', ERR → 'error'). */
  get qpState(): QpStateName {
    const s = Atomics.load(this.state.qps, this.qpNum * QP_STRIDE + Q_STATE);
    return s === QpState.ERROR ? 'error' : s === QpState.CONNECTED ? 'connected' : 'created';
  }

  /** In the error state: the status that put it there and why (undefined while it is not). */
  get error(): QpFailure | undefined {
    return this.qpState === 'error' ? (this.failure ?? rowFailure(this.state, this.qpNum)) : undefined;
  }

  /**
   * ibv_modify_qp(IBV_QPS_ERR): the QP enters the error state. Its outstanding work requests (receives
   * on its own queue, sends parked at the peer) complete with WR_FLUSH_ERROR, and so does every later
   * post; the peer's operations towards it complete RETRY_EXCEEDED. `cause` says why (fault injection,
   * a fatal completion). reset() then connect() bring it back.
   */
  toError(cause: string): void {
    this.enterError(qpFailure('WR_FLUSH_ERROR', cause), this.pd.clock.now);
  }

  /** ibv_modify_qp(IBV_QPS_RESET): forget the peer; connect() again to use it. */
  reset(): void {
    flushOutstanding(this, this.pd.clock.now);
    this.peer = undefined;
    this.failure = undefined;
    clearError(this.state, this.qpNum);
    Atomics.store(this.state.qps, this.qpNum * QP_STRIDE + Q_STATE, QpState.CREATED);
  }

  /**
   * The link this QP's packets cross is down during [startUs, endUs) of virtual time: an operation
   * posted then waits for the first retransmission after it (retryTimeoutUs apart, retryCount of
   * them), or completes RETRY_EXCEEDED when none falls after the window (see link-down.ts).
   */
  linkDown(startUs: number, endUs: number): void {
    this.link.add(startUs, endUs);
  }

  /** Connect to a peer QP (RC): both sides call connect with the other's address. */
  connect(remote: QpAddress): void {
    if (this.qpState === 'error') throw new InvalidArgument(`queue pair ${this.qpNum} is in the error state; reset() it before connect()`);
    this.bind(remote);
    writeConnection(this.state, this.qpNum, remote);
  }

  /** @internal resolve the peer this QP talks to (this thread's side only; the row says it is connected). */
  bind(remote: QpAddress): void {
    if (this.peer !== undefined) throw new InvalidArgument(`queue pair ${this.qpNum} is already connected`);
    if (remote === null || typeof remote !== 'object' || !Number.isInteger(remote.qpNum) || !Number.isInteger(remote.nodeId)) {
      throw new InvalidArgument('connect: expected the peer\'s qp.address { nodeId, qpNum, domainId, space }');
    }
    const far = this.pd.reach(remote.nodeId);
    if (far.kind === 'remote') {
      // As verbs' modify_qp to RTR: nothing is asked of the far side; a QP that is not there shows
      // up as RETRY_EXCEEDED completions.
      this.peer = { kind: 'remote', nodeId: remote.nodeId, qpNum: remote.qpNum, domainId: remote.domainId, node: far };
    } else {
      this.peer = this.localPeer(far, remote);
    }
  }

  private localPeer(adapter: Adapter, remote: QpAddress): LocalPeer {
    const pst = adapter.state;
    const prow = remote.qpNum * QP_STRIDE;
    if (remote.qpNum < 1 || remote.qpNum > pst.limits.maxQueuePairs || Atomics.load(pst.qps, prow + Q_STATE) === QpState.FREE ||
      pst.qps[prow + Q_DOMAIN] !== remote.domainId) {
      throw new InvalidArgument(`connect: node ${remote.nodeId} has no queue pair ${remote.qpNum} in domain ${remote.domainId}`);
    }
    const space = AddressSpace.remote(adapter.memory, remote.space as Parameters<typeof AddressSpace.remote>[1]);
    const mine = this.state.port;
    return { kind: 'local', nodeId: remote.nodeId, qpNum: remote.qpNum, domainId: remote.domainId, adapter, space,
      outbound: new PortPath(mine, pst.port), inbound: new PortPath(pst.port, mine) };
  }

  postRecv(wr: RecvWorkRequest): void {
    if (this.hasSrq) throw new InvalidArgument(`postRecv: queue pair ${this.qpNum} takes receives from its SRQ; post there`);
    if (this.qpState === 'error') {
      checkWrId(wr?.wrId, 'postRecv');
      this.noticeError();
      return flushPost(this, Opcode.RECV, wr.wrId, this.recvCqId);
    }
    this.pd.postRecvTo(this.rqId, wr);
  }

  /** Two-sided send into the peer's next posted receive (see README for RNR). */
  postSend(wr: SendWorkRequest): void {
    const peer = this.ready(wr, 'postSend', Opcode.SEND);
    if (peer === undefined) return;
    const imm = checkImm(wr.immData, 'postSend');
    const signaled = wr.signaled !== false;
    if (peer.kind === 'remote') return peer.node.postSend(this, wr, imm, signaled);
    const cost = this.pd.adapter.cost;
    const sameNode = peer.nodeId === this.pd.adapter.nodeId;
    const { sge } = wr;
    const t0 = this.pd.clock.now;
    const posted = t0 + cost.overheadUs;
    this.pd.clock.advanceTo(posted);
    if (sge.length > 0 && typeof checkKey(this.state, sge.lkey, 'lkey', this.pd.id, sge.addr, sge.length, NEED_NONE) !== 'number') {
      return this.complete(Opcode.SEND, wr.wrId, Status.LOCAL_PROTECTION_ERROR, 0, posted, true);
    }
    const pst = peer.adapter.state;
    const prow = peer.qpNum * QP_STRIDE;
    if (!this.peerAlive(pst, prow)) {
      const alone = transferTimes(cost, 'send', sge.length, t0, sameNode);
      return this.deadPeer(Opcode.SEND, wr.wrId, alone.arrive + latencyUs(cost, sameNode), peer);
    }
    const leaves = departure(this, this.link, Opcode.SEND, wr.wrId, t0);
    if (leaves === undefined) return;
    // The data goes on the wire now (in post order on this thread): it takes its share of both ports
    // even if the receiver turns out not to be ready (the first packet is sent, then RNR-NAKed).
    const t = transferTimes(cost, 'send', sge.length, leaves, sameNode, 0, peer.outbound);
    const park = this.rnrRetry === RNR_INFINITE
      ? localPark(this.pd.adapter.nodeId, this.qpNum, peer.qpNum, sge.lkey, sge.addr, sge.length, wr.wrId, imm, t.arrive, signaled)
      : undefined;
    const got = takeOrPark(pst, pst.qps[prow + Q_RQ]!, park);
    if (got === 'parked') {
      bump(this.state.counters, this.pd.id, Counter.rnrParked);
      // the receive it waits for will complete on the peer's CQ at its own arrival time: say so now
      lowerWatermark(pst, pst.qps[prow + Q_RECV_CQ]!, t.arrive);
      return;
    }
    if (got === 'none') {
      bump(this.state.counters, this.pd.id, Counter.rnrExceeded);
      const at = t.arrive + this.rnrRetry * cost.rnrTimerUs + latencyUs(cost, sameNode);
      return this.complete(Opcode.SEND, wr.wrId, Status.RETRY_EXCEEDED, 0, at, true, `the receiver had no receive posted after ${this.rnrRetry} RNR retries`);
    }
    const outcome = deliverSend(cost, new LocalSend(
      { state: this.state, memory: this.pd.adapter.memory, space: this.pd.remoteView(), nodeId: this.pd.adapter.nodeId,
        domainId: this.pd.id, qpNum: this.qpNum, sendCq: this.sendCqId, lkey: sge.lkey, addr: sge.addr, length: sge.length,
        wrId: wr.wrId, immData: imm, signaled }),
      { state: pst, memory: peer.adapter.memory, space: peer.space, nodeId: peer.nodeId, domainId: peer.domainId,
        qpNum: peer.qpNum, recvCq: pst.qps[prow + Q_RECV_CQ]! },
      got, rnrDeliveryTime(cost, t.arrive, got.postedAt));
    // its error completion marked the row; here, on the QP's own thread, its outstanding work flushes too
    if (outcome !== 'delivered') this.noticeError();
  }

  /** Write the local sge into [remoteAddr, +length) of the peer's region `rkey`. */
  rdmaWrite(wr: RdmaWorkRequest): void {
    this.rdma(wr, 'write');
  }

  /** Read [remoteAddr, +length) of the peer's region `rkey` into the local sge. */
  rdmaRead(wr: RdmaWorkRequest): void {
    this.rdma(wr, 'read');
  }

  private rdma(wr: RdmaWorkRequest, op: 'write' | 'read'): void {
    const what = op === 'write' ? 'rdmaWrite' : 'rdmaRead';
    const opcode = op === 'write' ? Opcode.RDMA_WRITE : Opcode.RDMA_READ;
    const peer = this.ready(wr, what, opcode);
    if (peer === undefined) return;
    checkRemote(wr.remoteAddr, wr.rkey, what);
    const list = checkSgl(wr, this.pd.adapter.state.limits.maxSge, what);
    if (peer.kind === 'remote') return peer.node.rdma(this, wr, op);
    const signaled = wr.signaled !== false;
    const cost = this.pd.adapter.cost;
    const sameNode = peer.nodeId === this.pd.adapter.nodeId;
    const n = list.reduce((sum, e) => sum + e.length, 0);
    const t0 = this.pd.clock.now;
    const posted = t0 + cost.overheadUs;
    this.pd.clock.advanceTo(posted);
    const L = latencyUs(cost, sameNode);
    const nak = posted + 2 * L; // the request reaches the responder, the NAK comes back
    const locals: number[] = [];
    for (const e of list) {
      const local = e.length === 0 ? 0 : checkKey(this.state, e.lkey, 'lkey', this.pd.id, e.addr, e.length, op === 'read' ? NEED_LOCAL_WRITE : NEED_NONE);
      if (typeof local !== 'number') return this.complete(opcode, wr.wrId, Status.LOCAL_PROTECTION_ERROR, 0, posted, true);
      locals.push(local);
    }
    const pst = peer.adapter.state;
    if (!this.peerAlive(pst, peer.qpNum * QP_STRIDE)) return this.deadPeer(opcode, wr.wrId, nak, peer);
    const leaves = departure(this, this.link, opcode, wr.wrId, t0);
    if (leaves === undefined) return;
    // Times, counters, completion: after the copy, or with wr.timed (one element) just before its bytes move.
    let faultChunks = 0;
    let finished = false;
    const finish = (chunks: number): void => {
      finished = true;
      const done = transferTimes(cost, op, n, leaves, sameNode, odpFaultCost(cost, chunks) + sgeCostUs(cost, list.length), op === 'write' ? peer.outbound : peer.inbound);
      bump(this.state.counters, this.pd.id, op === 'write' ? Counter.writeOps : Counter.readOps);
      bump(this.state.counters, this.pd.id, op === 'write' ? Counter.writeBytes : Counter.readBytes, n);
      this.complete(opcode, wr.wrId, Status.SUCCESS, n, done.complete, signaled);
    };
    const timed = wr.timed !== undefined && list.length === 1 ? (chunks: number) => (finish(chunks), wr.timed!()) : undefined;
    if (n > 0) {
      const remote = checkKey(pst, wr.rkey, 'rkey', peer.domainId, wr.remoteAddr, n, op === 'read' ? NEED_REMOTE_READ : NEED_REMOTE_WRITE);
      if (typeof remote !== 'number') return this.complete(opcode, wr.wrId, Status.REMOTE_ACCESS_ERROR, 0, nak, true);
      // each element against its stretch of the one remote range, in list order
      let at = wr.remoteAddr;
      for (let i = 0; i < list.length; i++) {
        const e = list[i]!;
        if (e.length === 0) continue;
        const mine = { state: this.state, memory: this.pd.adapter.memory, space: this.pd.remoteView(), nodeId: this.pd.adapter.nodeId,
          slot: locals[i]!, key: e.lkey, which: 'lkey' as const, addr: e.addr, length: e.length, write: op === 'read' };
        const theirs = { state: pst, memory: peer.adapter.memory, space: peer.space, nodeId: peer.nodeId, slot: remote,
          key: wr.rkey, which: 'rkey' as const, addr: at, length: e.length, write: op === 'write' };
        const out = op === 'write' ? dmaCopy(mine, theirs, cost.odpFaultChunkBytes, timed) : dmaCopy(theirs, mine, cost.odpFaultChunkBytes, timed);
        if (!out.ok) {
          const localSide = (op === 'write') === (out.side === 'src');
          return localSide
            ? this.complete(opcode, wr.wrId, Status.LOCAL_PROTECTION_ERROR, 0, posted, true)
            : this.complete(opcode, wr.wrId, Status.REMOTE_ACCESS_ERROR, 0, nak, true);
        }
        faultChunks += out.faultChunks;
        at += e.length;
      }
    }
    // Only a transfer that moved data occupies the ports (an error moved nothing), in post order on this thread.
    if (!finished) finish(faultChunks);
  }

  /** Add `compareAdd` to the peer's 8-byte word at remoteAddr; its old value lands in the local sge. */
  atomicFetchAdd(wr: AtomicWorkRequest): void {
    this.atomic(wr, 'fetch-add');
  }

  /** Store `swap` in the peer's word at remoteAddr if it equals `compareAdd`; its old value lands in the local sge. */
  atomicCompareSwap(wr: AtomicWorkRequest): void {
    this.atomic(wr, 'compare-swap');
  }

  /**
   * Priced as an 8-byte RDMA read (request out, old value back, responder port busy for the word):
   * on InfiniBand an atomic's latency is that of a small read (perftest ib_atomic_lat vs ib_read_lat
   * on ConnectX-5/6: within ~0.1 µs).
   */
  private atomic(wr: AtomicWorkRequest, op: AtomicOp): void {
    const what = op === 'fetch-add' ? 'atomicFetchAdd' : 'atomicCompareSwap';
    const opcode = op === 'fetch-add' ? Opcode.FETCH_ADD : Opcode.COMP_SWAP;
    const peer = this.ready(wr, what, opcode);
    if (peer === undefined) return;
    checkRemote(wr.remoteAddr, wr.rkey, what);
    if (typeof wr.compareAdd !== 'bigint' || (op === 'compare-swap' && typeof wr.swap !== 'bigint')) {
      throw new InvalidArgument(`${what}: compareAdd${op === 'compare-swap' ? ' and swap' : ''} must be bigint values (64-bit)`);
    }
    if (peer.kind === 'remote') return peer.node.atomic(this, wr, op);
    const signaled = wr.signaled !== false;
    const cost = this.pd.adapter.cost;
    const sameNode = peer.nodeId === this.pd.adapter.nodeId;
    const { sge } = wr;
    const t0 = this.pd.clock.now;
    const posted = t0 + cost.overheadUs;
    this.pd.clock.advanceTo(posted);
    const nak = posted + 2 * latencyUs(cost, sameNode);
    if (sge.length !== ATOMIC_BYTES) return this.complete(opcode, wr.wrId, Status.LOCAL_LENGTH_ERROR, 0, posted, true);
    const local = checkKey(this.state, sge.lkey, 'lkey', this.pd.id, sge.addr, ATOMIC_BYTES, NEED_LOCAL_WRITE);
    if (typeof local !== 'number') return this.complete(opcode, wr.wrId, Status.LOCAL_PROTECTION_ERROR, 0, posted, true);
    const pst = peer.adapter.state;
    if (!this.peerAlive(pst, peer.qpNum * QP_STRIDE)) return this.deadPeer(opcode, wr.wrId, nak, peer);
    const leaves = departure(this, this.link, opcode, wr.wrId, t0);
    if (leaves === undefined) return;
    if (wr.remoteAddr % ATOMIC_BYTES !== 0) return this.complete(opcode, wr.wrId, Status.REMOTE_INVALID_REQUEST, 0, nak, true);
    const remote = checkKey(pst, wr.rkey, 'rkey', peer.domainId, wr.remoteAddr, ATOMIC_BYTES, NEED_REMOTE_ATOMIC);
    if (typeof remote !== 'number') return this.complete(opcode, wr.wrId, Status.REMOTE_ACCESS_ERROR, 0, nak, true);
    const out = dmaAtomic({ state: pst, memory: peer.adapter.memory, space: peer.space, nodeId: peer.nodeId, slot: remote,
      key: wr.rkey, which: 'rkey', addr: wr.remoteAddr, length: ATOMIC_BYTES, write: true }, op, wr.compareAdd, wr.swap ?? 0n,
    cost.odpFaultChunkBytes);
    if (!out.ok) return this.complete(opcode, wr.wrId, Status.REMOTE_ACCESS_ERROR, 0, nak, true);
    const old = new Uint8Array(ATOMIC_BYTES);
    new DataView(old.buffer).setBigInt64(0, out.old, true);
    const landed = dmaCopy({ bytes: old }, { state: this.state, memory: this.pd.adapter.memory, space: this.pd.remoteView(),
      nodeId: this.pd.adapter.nodeId, slot: local, key: sge.lkey, which: 'lkey', addr: sge.addr, length: ATOMIC_BYTES, write: true },
    cost.odpFaultChunkBytes);
    if (!landed.ok) return this.complete(opcode, wr.wrId, Status.LOCAL_PROTECTION_ERROR, 0, posted, true);
    const faultUs = odpFaultCost(cost, out.faultChunks + landed.faultChunks);
    const done = transferTimes(cost, 'read', ATOMIC_BYTES, leaves, sameNode, faultUs, peer.inbound);
    bump(this.state.counters, this.pd.id, Counter.atomicOps);
    this.complete(opcode, wr.wrId, Status.SUCCESS, ATOMIC_BYTES, done.complete, signaled);
  }

  /** The peer to post to; undefined when the QP is in the error state (a flush) or the link gave up on a remote post (RETRY_EXCEEDED). */
  private ready(wr: { wrId: number; sge: { lkey: number; addr: number; length: number }; sgl?: unknown }, what: string, opcode: number): Peer | undefined {
    if (this.qpState === 'error') {
      checkWrId(wr?.wrId, what);
      this.noticeError();
      flushPost(this, opcode, wr.wrId, this.sendCqId);
      return undefined;
    }
    if (this.peer === undefined) throw new NotConnected(this.qpNum);
    checkWrId(wr?.wrId, what);
    if (wr.sgl === undefined) checkSge(wr.sge, what);
    // (a local peer's post asks the link itself, after its local checks)
    if (this.peer.kind === 'remote' && remoteGaveUp(this, this.link, opcode, wr.wrId)) return undefined;
    return this.peer;
  }

  /** The peer QP is gone, in the error state, or connected elsewhere: the transport's retries run out. */
  private deadPeer(opcode: number, wrId: number, time: number, peer: LocalPeer): void {
    const pst = peer.adapter.state;
    const inError = Atomics.load(pst.qps, peer.qpNum * QP_STRIDE + Q_STATE) === QpState.ERROR;
    this.complete(opcode, wrId, Status.RETRY_EXCEEDED, 0, time, true, `queue pair ${peer.qpNum} of node ${peer.nodeId} ${inError
      ? peerErrorText(pst, peer.qpNum) : 'is not connected to it'}`, inError && linkCaused(pst, peer.qpNum));
  }

  /** The peer QP still exists and is connected back to this one (else the transport gives up). */
  private peerAlive(pst: AdapterState, prow: number): boolean {
    return Atomics.load(pst.qps, prow + Q_STATE) === QpState.CONNECTED &&
      pst.qps[prow + Q_REMOTE_QPN] === this.qpNum && pst.qps[prow + Q_REMOTE_NODE] === this.pd.adapter.nodeId;
  }

  /**
   * @internal push this QP's own completion (successes only when signaled). A fatal one (fatalStatus:
   * an access or protection error, RETRY_EXCEEDED when retries or RNR retries ran out, the peer is gone
   * or the link was down) puts the QP in the error state, as verbs does.
   */
  complete(opcode: number, wrId: number, status: number, bytes: number, time: number, signaled: boolean, why?: string, link = false): void {
    if (status === Status.SUCCESS && !signaled) return;
    if (fatalStatus(status)) markError(this.state, this.qpNum, status, link); // before the completion a thread may act on
    pushCompletion(this.state, this.sendCqId, { status, opcode, byteLength: bytes, wrId, qpNum: this.qpNum, immData: -1, time });
    if (fatalStatus(status)) this.enterError(fatalFailure(status, why), time);
  }

  /** Another thread or node marked the row (an error completion it delivered here): flush, here, what is still outstanding. */
  private noticeError(): void {
    if (this.failure === undefined) this.enterError(rowFailure(this.state, this.qpNum), this.pd.clock.now);
  }

  /** Once per failure: another thread may have marked the row already, so the failure, not the row, says whether it was handled here. */
  private enterError(f: QpFailure, time: number): void {
    if (this.failure !== undefined) return;
    this.failure = f;
    markError(this.state, this.qpNum, Status[f.status]);
    flushOutstanding(this, time);
  }

  /** @internal */
  destroy(): void {
    Atomics.store(this.state.qps, this.qpNum * QP_STRIDE + Q_STATE, QpState.FREE);
    this.peer = undefined;
  }
}
