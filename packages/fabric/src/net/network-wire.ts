import type { Adapter } from '../adapter.js';
import { InvalidArgument } from '../errors.js';
import type { Wire } from '../wire.js';
import type { ListenOptions, NetworkWireHandle, PeerAddress } from './types.js';

/**
 * The network wire of one node process (see types.ts for the whole picture). Created on the
 * process's main thread, which becomes its network thread; rank threads attach to it from its
 * handle. Interface first: the implementation lands behind these signatures.
 */
export class NetworkWire {
  /** "host:port" this node listens on: publish it (PMI put) for the other nodes' connectPeers. */
  readonly address: string;
  readonly nodeId: number;
  /** Structured-cloneable: workerData of every rank thread of this node. */
  readonly handle: NetworkWireHandle;

  private constructor(address: string, nodeId: number, handle: NetworkWireHandle) {
    this.address = address;
    this.nodeId = nodeId;
    this.handle = handle;
  }

  /** Listen for the other nodes (main thread of a node process). Resolves once the port is bound. */
  static async listen(opts: ListenOptions): Promise<NetworkWire> {
    void opts;
    throw new InvalidArgument('NetworkWire.listen: not implemented yet');
  }

  /** Every other node's address. Connections open on first use; an unknown node id is an InvalidArgument at connect(). */
  connectPeers(peers: PeerAddress[]): void {
    void peers;
  }

  /** Close every connection and stop listening; operations still waiting complete RETRY_EXCEEDED. */
  async close(): Promise<void> {}

  /**
   * In a rank thread: the Wire to pass to adapter.openDomain(space, clock, { wire }). `adapter` is
   * this node's adapter attached in the thread (Adapter.attach); QPs of this node connect through
   * it as in one process, QPs of other nodes through the network thread.
   */
  static attach(handle: NetworkWireHandle, adapter: Adapter): Wire {
    void handle;
    void adapter;
    throw new InvalidArgument('NetworkWire.attach: not implemented yet');
  }
}
