import type { ProtectionDomain } from './domain.js';
import { InvalidArgument } from './errors.js';
import { QueuePair, type QueuePairOptions } from './queue-pair.js';
import { claimQueuePairRow, writeConnection, type QueuePairTemplate } from './qp-table.js';
import { Q_DOMAIN, Q_REMOTE_DOMAIN, Q_REMOTE_NODE, Q_REMOTE_QPN, Q_STATE, QP_STRIDE, QpState } from './shared/layout.js';
import { RNR_INFINITE } from './constants.js';
import type { QpAddress } from './types.js';

/**
 * Where a domain accepts connections made on demand: its node, domain and page table (as in a
 * QpAddress, with no queue pair yet: qpNum 0), and the queues a queue pair created for it completes into.
 */
export interface ListenAddress extends QpAddress {
  qpNum: 0;
  accept: Omit<QueuePairTemplate, 'domainId'>;
}

/** Finds the listen address of (node, domain) among the peers this domain was told about. */
export type ListenResolver = (nodeId: number, domainId: number) => ListenAddress | undefined;

/**
 * Reliable connections created on first use, as MVAPICH's on-demand connection manager and UCX's
 * wireup do it, so a job holds a queue pair per pair of domains that talk, not per pair that
 * exist. The side that connects first builds both ends: its own queue pair, and one in the peer's
 * domain on the peer's adapter from the peer's listen address (both adapters live in this process,
 * their tables are shared memory). The peer takes its end over when it first needs it (`accept`),
 * or when a parked send arrives for it. Connecting costs no virtual time: the full mesh it replaces
 * was built before the program started.
 */
export class OnDemandConnections {
  readonly address: ListenAddress;

  constructor(private readonly pd: ProtectionDomain, private readonly opts: QueuePairOptions, private readonly resolve: ListenResolver) {
    if (opts.srq === undefined) throw new InvalidArgument('listen: connections made on demand take receives from a shared receive queue (opts.srq)');
    const rnr = opts.rnrRetry ?? 'infinite';
    if (rnr !== 'infinite' && !(Number.isInteger(rnr) && rnr >= 0 && rnr < RNR_INFINITE)) {
      throw new InvalidArgument(`listen: rnrRetry must be 0..6 or 'infinite' (7), got ${String(rnr)}`);
    }
    this.address = {
      nodeId: pd.adapter.nodeId, qpNum: 0, domainId: pd.id, space: pd.space.handle,
      accept: { sendCq: opts.sendCq.id, recvCq: opts.recvCq.id, rq: opts.srq.id, rnrRetry: rnr === 'infinite' ? RNR_INFINITE : rnr },
    };
  }

  /** Creates both ends of a connection to `peer` (in this process) and returns ours; the peer's number is in its row. */
  connect(peer: ListenAddress): QueuePair {
    if (peer?.accept === undefined) throw new InvalidArgument('connect on demand: expected the peer\'s listen address (pd.listen(...).address)');
    const far = this.pd.reach(peer.nodeId);
    if (far.kind === 'remote') {
      throw new InvalidArgument(`connect on demand: node ${peer.nodeId} is in another process; connect across processes with createQueuePair and connect`);
    }
    const a = this.address.accept;
    const mine = claimQueuePairRow(this.pd.adapter.state, { domainId: this.pd.id, ...a });
    const theirs = claimQueuePairRow(far.state, { domainId: peer.domainId, ...peer.accept });
    // the peer's end first: by the time ours says CONNECTED, a post through it finds the peer connected back
    writeConnection(far.state, theirs, { nodeId: this.pd.adapter.nodeId, qpNum: mine, domainId: this.pd.id });
    writeConnection(this.pd.adapter.state, mine, { nodeId: peer.nodeId, qpNum: theirs, domainId: peer.domainId });
    return this.adopt(mine, { ...peer, qpNum: theirs });
  }

  /** Our end of a connection a peer made on demand (row `qpNum`), taken over by this thread once. */
  accept(qpNum: number): QueuePair {
    const known = this.pd.qps.get(qpNum);
    if (known !== undefined) return known;
    const qps = this.pd.adapter.state.qps;
    const row = qpNum * QP_STRIDE;
    const nodeId = qps[row + Q_REMOTE_NODE]!;
    const domainId = qps[row + Q_REMOTE_DOMAIN]!;
    const peer = this.resolve(nodeId, domainId);
    if (peer === undefined) throw new InvalidArgument(`accept: queue pair ${qpNum} connects to node ${nodeId} domain ${domainId}, which this domain was not told about`);
    return this.adopt(qpNum, { ...peer, qpNum: qps[row + Q_REMOTE_QPN]! });
  }

  /** Our end of row `qpNum` if it is a live connection of this domain (a parked send's target), else undefined. */
  acceptParked(qpNum: number): QueuePair | undefined {
    const qps = this.pd.adapter.state.qps;
    const row = qpNum * QP_STRIDE;
    const ours = qpNum >= 1 && qpNum <= this.pd.adapter.state.limits.maxQueuePairs &&
      Atomics.load(qps, row + Q_STATE) === QpState.CONNECTED && qps[row + Q_DOMAIN] === this.pd.id;
    return ours ? this.accept(qpNum) : undefined;
  }

  private adopt(qpNum: number, remote: QpAddress): QueuePair {
    const qp = QueuePair.attach(this.pd, qpNum, this.opts);
    qp.bind(remote);
    this.pd.qps.set(qpNum, qp);
    return qp;
  }
}
