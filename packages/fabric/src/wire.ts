import { InvalidArgument } from './errors.js';
import type { Adapter } from './adapter.js';
import type { SendSource } from './dma/deliver.js';
import type { ProtectionDomain } from './domain.js';
import type { QueuePair } from './queue-pair.js';
import type { ParkedSend } from './queues/receive-queue.js';
import type { AtomicOp } from './dma/atomic.js';
import type { AtomicWorkRequest, RdmaWorkRequest, SendWorkRequest } from './types.js';

/**
 * How a domain reaches another node's adapter. In one process (InProcessWire) every node's
 * adapter and memory are attached in every worker, so the responder side of an operation runs
 * on the initiator's thread against the far adapter's shared tables. The network wire
 * (net/network-wire.ts) answers a RemoteNode for a node owned by another process instead, and
 * ships the requests to it.
 */
export interface Wire {
  readonly kind: string;
  /** Node `nodeId`: its adapter when attached in this thread, or the way to it; throws when the node is not reachable. */
  reach(nodeId: number): Adapter | RemoteNode;
  /** Called once by every domain opened with this wire, on its owner's thread. */
  opened?(pd: ProtectionDomain): void;
}

/**
 * A node whose adapter lives in another process. The QP runs the initiator's half of a post on
 * its own thread and hands the rest to the remote node; completions arrive in its CQ later.
 */
export interface RemoteNode {
  readonly kind: 'remote';
  readonly nodeId: number;
  postSend(qp: QueuePair, wr: SendWorkRequest, immData: number, signaled: boolean): void;
  rdma(qp: QueuePair, wr: RdmaWorkRequest, op: 'write' | 'read'): void;
  atomic(qp: QueuePair, wr: AtomicWorkRequest, op: AtomicOp): void;
  /** A send from this node parked in one of our receive queues, as a source to deliver from. */
  parkedSource(p: ParkedSend, pd: ProtectionDomain): SendSource;
  /** A parked send from this node that will never be delivered: its sender completes RETRY_EXCEEDED at `time`. */
  failParked(p: ParkedSend, pd: ProtectionDomain, time: number): void;
}

/** Every node's adapter attached in this thread. */
export class InProcessWire implements Wire {
  readonly kind = 'in-process';
  private readonly byNode = new Map<number, Adapter>();

  constructor(adapters: Iterable<Adapter>) {
    for (const a of adapters) {
      if (this.byNode.has(a.nodeId)) throw new InvalidArgument(`InProcessWire: two adapters claim node ${a.nodeId}; give each node its own nodeId`);
      this.byNode.set(a.nodeId, a);
    }
  }

  reach(nodeId: number): Adapter {
    const a = this.byNode.get(nodeId);
    if (a === undefined) {
      throw new InvalidArgument(`node ${nodeId} is not on this wire (nodes: ${[...this.byNode.keys()].join(', ')}); ` +
        `attach its adapter and pass new InProcessWire([...]) to openDomain`);
    }
    return a;
  }
}
