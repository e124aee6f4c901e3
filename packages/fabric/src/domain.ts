import { AddressSpace, type InvalidationRange, type MmuNotifierSubscriber, type RemoteAddressSpace } from '@tsmpi/vm';
import type { Adapter } from './adapter.js';
import type { VirtualClock } from './clock.js';
import { deregistrationCost, latencyUs, registrationCost, rnrDeliveryTime } from './cost/formulas.js';
import { InvalidArgument } from './errors.js';
import { LocalSend, deliverSend } from './dma/deliver.js';
import { faultIn, type RegionAccess } from './dma/region-access.js';
import { NEED_LOCAL_WRITE } from './mr/table.js';
import { deregisterRegion, registerRegion, type OwnedRegion } from './mr/register.js';
import { CompletionQueue } from './queues/completion-queue.js';
import {
  ReceiveQueue, createReceiveQueue, destroyReceiveQueue, drainParked, postOrUnpark, type ParkedSend,
} from './queues/receive-queue.js';
import { pushCompletion } from './queues/completion-queue.js';
import { markError } from './qp-error.js';
import { Opcode, RNR_INFINITE, Status } from './constants.js';
import { QueuePair, type LocalPeer, type QueuePairOptions } from './queue-pair.js';
import { OnDemandConnections, type ListenResolver } from './connect-on-demand.js';
import { DOMAIN_FREE, DOMAIN_OPEN, M_DOMAIN, MR_STRIDE, Q_DOMAIN, Q_SEND_CQ, QP_STRIDE } from './shared/layout.js';
import type { AdapterState } from './shared/state.js';
import { COUNTER_CELLS, Counter, bump, readStats } from './stats.js';
import type { FabricStats, MemoryRegion, RecvWorkRequest } from './types.js';
import type { RemoteNode, Wire } from './wire.js';
import { checkWrId, checkSge } from './work-request.js';

/**
 * A protection domain: one process's registrations, queues and counters on one adapter. Its
 * methods run on the process's own thread; what peers need is in the adapter's shared tables.
 */
export class ProtectionDomain {
  readonly id: number;
  readonly adapter: Adapter;
  readonly space: AddressSpace;
  readonly clock: VirtualClock;
  /** @internal */
  readonly wire: Wire | undefined;
  private readonly state: AdapterState;
  private readonly regions = new Map<number, OwnedRegion>(); // by lkey
  /** @internal QPs of this domain by number (parked sends are delivered through them). */
  readonly qps = new Map<number, QueuePair>();
  private readonly cqs: CompletionQueue[] = [];
  private readonly rqs: number[] = [];
  private unsubscribe: (() => void) | undefined;
  private closed = false;

  private constructor(adapter: Adapter, space: AddressSpace, clock: VirtualClock, wire: Wire | undefined, id: number) {
    this.adapter = adapter;
    this.state = adapter.state;
    this.space = space;
    this.clock = clock;
    this.wire = wire;
    this.id = id;
    if (adapter.backend.onDemand) this.unsubscribe = space.mmuNotifier.subscribe(this.notifierSubscriber());
  }

  /** @internal */
  static open(adapter: Adapter, space: AddressSpace, clock: VirtualClock, wire: Wire | undefined): ProtectionDomain {
    if (!(space instanceof AddressSpace)) throw new InvalidArgument('openDomain: space must be the rank\'s AddressSpace');
    if (space.memory.handle.frames !== adapter.memory.handle.frames) {
      throw new InvalidArgument(`openDomain: the address space is not on adapter ${adapter.nodeId}'s memory; open the domain on the adapter of the space's node, and pass the same PhysicalMemory object to Adapter.attach and new AddressSpace`);
    }
    if (clock === undefined || typeof clock.advance !== 'function') throw new InvalidArgument('openDomain: clock must be a VirtualClock');
    const st = adapter.state;
    const domains = st.header.subarray(st.domainAt);
    const id = st.claimRow(domains, 1, st.limits.maxDomains, DOMAIN_OPEN, undefined, 'protection-domain', 'maxDomains');
    // A reused slot starts from zero: counters describe this domain only.
    for (let i = 0; i < COUNTER_CELLS; i++) Atomics.store(st.counters, id * COUNTER_CELLS + i, 0n);
    const pd = new ProtectionDomain(adapter, space, clock, wire, id);
    wire?.opened?.(pd);
    return pd;
  }

  // ------------------------------------------------------------------ memory regions

  registerMemory(addr: number, length: number, access: number): MemoryRegion {
    this.checkOpen();
    const r = registerRegion(this.state, this.space, this.id, this.adapter.backend, addr, length, access);
    this.regions.set(r.mr.lkey, r);
    this.clock.advance(registrationCost(this.adapter.cost, r.backend.priceAs, r.mr.pages));
    return r.mr;
  }

  deregister(mr: MemoryRegion): void {
    this.checkOpen();
    const r = this.regions.get(mr?.lkey);
    if (r === undefined || r.mr.rkey !== mr.rkey) {
      throw new InvalidArgument(`deregister: lkey ${mr?.lkey} is not a live registration of domain ${this.id} (deregistered twice, or another domain's?)`);
    }
    this.regions.delete(mr.lkey);
    deregisterRegion(this.state, this.space, this.id, r);
    this.clock.advance(deregistrationCost(this.adapter.cost, r.backend.priceAs, r.mr.pages));
  }

  /**
   * ODP prefetch (ibv_advise_mr): fault [addr, addr + length) of `mr` into its page table now,
   * charged one network fault per chunk that faulted. A no-op on a backend whose translations are
   * frozen at registration (pinning: already resident).
   * Returns the pages faulted in. Throws for a range outside the MR or not mapped.
   */
  advise(mr: MemoryRegion, addr: number, length: number): number {
    this.checkOpen();
    const r = this.regions.get(mr?.lkey);
    if (r === undefined) throw new InvalidArgument(`advise: lkey ${mr?.lkey} is not a live registration of this domain`);
    if (!(addr >= mr.addr && length >= 0 && addr + length <= mr.addr + mr.length)) {
      throw new InvalidArgument(`advise: [${addr}, +${length}) is outside the region [${mr.addr}, +${mr.length})`);
    }
    if (!r.backend.onDemand || length === 0) return 0;
    const space = this.remoteView();
    const a = { state: this.state, memory: this.adapter.memory, space, nodeId: this.adapter.nodeId, slot: r.slot,
      key: mr.lkey, which: 'lkey' as const, addr, length, write: (mr.access & NEED_LOCAL_WRITE) !== 0 };
    // dmaCopy would move bytes; a prefetch only fills the table: fault through the same path.
    const res = faultOnly(a, this.adapter.cost.odpFaultChunkBytes);
    if (res === 'segv') throw new InvalidArgument(`advise: part of [${addr}, +${length}) is not mapped (or not accessible)`);
    bump(this.state.counters, this.id, Counter.prefetchPages, res.pages);
    this.clock.advance(res.chunks * this.adapter.cost.odpFaultUs);
    return res.pages;
  }

  // ------------------------------------------------------------------ queues

  createCompletionQueue(opts: { depth?: number } = {}): CompletionQueue {
    this.checkOpen();
    const cq = CompletionQueue.create(this.state, this.id, opts.depth ?? 4096);
    this.cqs.push(cq);
    return cq;
  }

  createSharedReceiveQueue(opts: { depth?: number } = {}): ReceiveQueue {
    this.checkOpen();
    const depth = opts.depth ?? 1024;
    const id = createReceiveQueue(this.state, this.id, depth, true);
    this.rqs.push(id);
    return new ReceiveQueue(this, id, depth);
  }

  /**
   * Accept and make connections on demand (connect-on-demand.ts): queue pairs towards peers of this
   * process are created on first use with `opts`; `resolve` finds a peer's listen address.
   */
  listen(opts: QueuePairOptions, resolve: ListenResolver): OnDemandConnections {
    this.checkOpen();
    if (this.onDemand !== undefined) throw new InvalidArgument(`protection domain ${this.id} already listens`);
    return (this.onDemand = new OnDemandConnections(this, opts, resolve));
  }
  private onDemand: OnDemandConnections | undefined;

  createQueuePair(opts: QueuePairOptions): QueuePair {
    this.checkOpen();
    const qp = QueuePair.create(this, opts);
    this.qps.set(qp.qpNum, qp);
    if (opts.srq === undefined) this.rqs.push(qp.rqId);
    return qp;
  }

  get stats(): FabricStats {
    return readStats(this.state.counters, [this.id]);
  }

  /** Deregister what is left, unsubscribe from the notifier, free the domain's slot. */
  close(): void {
    if (this.closed) return;
    for (const r of [...this.regions.values()]) this.deregister(r.mr);
    this.unsubscribe?.();
    for (const qp of this.qps.values()) qp.destroy();
    for (const id of this.rqs) {
      for (const p of drainParked(this.state, id)) this.failParked(p);
      destroyReceiveQueue(this.state, id);
    }
    for (const cq of this.cqs) cq.destroy();
    this.closed = true;
    Atomics.store(this.state.header.subarray(this.state.domainAt), this.id, DOMAIN_FREE);
  }

  // ------------------------------------------------------------------ internals

  /** @internal this domain's own page table seen through the cross-thread interface (ODP faults). */
  remoteView(): RemoteAddressSpace {
    return (this.ownRemote ??= AddressSpace.remote(this.adapter.memory, this.space.handle));
  }
  private ownRemote: RemoteAddressSpace | undefined;

  /** @internal the adapter of node `nodeId`, this one or through the wire (a RemoteNode: owned by another process). */
  reach(nodeId: number): Adapter | RemoteNode {
    if (nodeId === this.adapter.nodeId) return this.adapter;
    if (this.wire === undefined) {
      throw new InvalidArgument(`node ${nodeId} is another node and this domain has no wire; pass { wire: new InProcessWire(adapters) } to openDomain`);
    }
    return this.wire.reach(nodeId);
  }

  /**
   * @internal post a receive into receive queue `rqId` (the QP's own or an SRQ). A parked send
   * takes it at once: this thread copies the data and completes both sides.
   */
  postRecvTo(rqId: number, wr: RecvWorkRequest): void {
    this.checkOpen();
    checkWrId(wr?.wrId, 'postRecv');
    checkSge(wr.sge, 'postRecv');
    const recv = { wrId: wr.wrId, lkey: wr.sge.lkey, addr: wr.sge.addr, length: wr.sge.length, postedAt: this.clock.now };
    for (;;) {
      const parked = postOrUnpark(this.state, rqId, recv);
      if (parked === undefined) return;
      // a send parked on our end of a connection the peer made on demand, before we took that end over
      const qp = this.qps.get(parked.dstQpn) ?? this.onDemand?.acceptParked(parked.dstQpn);
      if (qp === undefined || qp.peer === undefined || qp.qpState === 'error') {
        this.failParked(parked); // its QP went away or failed: the sender's transport gives up
        continue;
      }
      const sender = this.reach(parked.srcNode);
      const cost = this.adapter.cost;
      const dataAt = rnrDeliveryTime(cost, parked.arrive, recv.postedAt);
      const receiver = { state: this.state, memory: this.adapter.memory, space: this.remoteView(), nodeId: this.adapter.nodeId,
        domainId: this.id, qpNum: qp.qpNum, recvCq: qp.recvCqId };
      if (sender.kind === 'remote') {
        // Its bytes came with it; its completion (and rnrDelivered) go back over the wire.
        if (deliverSend(cost, sender.parkedSource(parked, this), receiver, recv, dataAt) !== 'sender-error') return;
        continue;
      }
      const sst = sender.state;
      const srow = parked.srcQpn * QP_STRIDE;
      // The parked send came from the QP's connected peer, so a sender in this process is a local peer.
      const space = (qp.peer as LocalPeer).space;
      const outcome = deliverSend(cost, new LocalSend(
        { state: sst, memory: sender.memory, space, nodeId: parked.srcNode, domainId: sst.qps[srow + Q_DOMAIN]!,
          qpNum: parked.srcQpn, sendCq: sst.qps[srow + Q_SEND_CQ]!, lkey: parked.lkey, addr: parked.addr,
          length: parked.length, wrId: parked.wrId, immData: parked.immData, signaled: parked.signaled }),
        receiver, recv, dataAt);
      if (outcome === 'delivered') bump(sst.counters, sst.qps[srow + Q_DOMAIN]!, Counter.rnrDelivered);
      if (outcome !== 'sender-error') return;
      // The sender's buffer was gone; this receive is still free for the next parked send.
    }
  }

  /** @internal a parked send that can never be delivered completes RETRY_EXCEEDED at its sender (never dropped silently). */
  failParked(p: ParkedSend): void {
    const sender = this.reach(p.srcNode);
    const cost = this.adapter.cost;
    const time = p.arrive + RNR_INFINITE * cost.rnrTimerUs + latencyUs(cost, p.srcNode === this.adapter.nodeId);
    if (sender.kind === 'remote') return sender.failParked(p, this, time);
    const sst = sender.state;
    const srow = p.srcQpn * QP_STRIDE;
    markError(sst, p.srcQpn, Status.RETRY_EXCEEDED); // a RETRY_EXCEEDED completion puts its QP in the error state
    pushCompletion(sst, sst.qps[srow + Q_SEND_CQ]!, { status: Status.RETRY_EXCEEDED, opcode: Opcode.SEND, byteLength: 0,
      wrId: p.wrId, qpNum: p.srcQpn, immData: -1, time });
  }

  /**
   * Empty the translations of every on-demand region overlapping [addr, addr + length), as the
   * kernel's invalidations do (NUMA balancing, compaction): the pages stay where they are, the next
   * access re-faults them. Fault injection's ODP storms use it. Returns the pages zapped (0 on pinning).
   */
  invalidateOnDemand(addr: number, length: number): number {
    this.checkOpen();
    return this.zap(addr, addr + length);
  }

  private zap(start: number, end: number): number {
    let pages = 0;
    for (const r of this.regions.values()) {
      const n = r.backend.invalidate(this.state, r, start, end, this.space.pageSize);
      if (n > 0) {
        bump(this.state.counters, this.id, Counter.odpInvalidations);
        bump(this.state.counters, this.id, Counter.odpZappedPages, n);
        pages += n;
      }
    }
    return pages;
  }

  /** For an on-demand backend: the notifier's invalidations empty the translations of every region they overlap. */
  private notifierSubscriber(): MmuNotifierSubscriber {
    const zapAll = (start: number, end: number): void => void this.zap(start, end);
    return {
      invalidateRangeStart: (r: InvalidationRange) => zapAll(r.start, r.end),
      invalidateRangeEnd: () => {},
      release: () => zapAll(0, Number.MAX_SAFE_INTEGER),
    };
  }

  private checkOpen(): void {
    if (this.closed) throw new InvalidArgument(`protection domain ${this.id} is closed`);
  }
}

/** Fault a range into an ODP MR's table without moving data. */
function faultOnly(a: RegionAccess, chunkBytes: number): { pages: number; chunks: number } | 'segv' {
  const r = faultIn(a, chunkBytes, a.addr);
  if (r === 'segv') return 'segv';
  if (r === 'revoked') return { pages: 0, chunks: 0 };
  if (r.chunks.size > 0) bump(a.state.counters, a.state.mrs[a.slot * MR_STRIDE + M_DOMAIN]!, Counter.odpFaults);
  return { pages: r.pages, chunks: r.chunks.size };
}
