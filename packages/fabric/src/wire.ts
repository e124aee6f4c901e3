import { InvalidArgument } from './errors.js';
import type { Adapter } from './adapter.js';

/**
 * How a domain reaches another node's adapter. In this single-process simulation every node's
 * adapter and memory are attached in every worker, so the responder side of an operation runs
 * on the initiator's thread against the far adapter's shared tables. A network transport would
 * implement the same interface by shipping requests to a process that owns the far adapter.
 */
export interface Wire {
  readonly kind: string;
  /** The adapter of node `nodeId`; throws when the node is not reachable. */
  reach(nodeId: number): Adapter;
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
