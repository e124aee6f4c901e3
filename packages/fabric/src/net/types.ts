/*
 * The network Wire: one OS process per simulated node, talking TCP to the others.
 *
 *   node process main thread (the network thread)        rank worker threads of that process
 *   ─────────────────────────────────────────────        ───────────────────────────────────
 *   const wire = await NetworkWire.listen({                const wire = NetworkWire.attach(
 *     adapter, host, port: 0, token });                        workerData.wire, adapter);
 *   publish wire.address (PMI put)                         const pd = adapter.openDomain(space, clock, { wire });
 *   wire.connectPeers([{ nodeId, address }, ...])          qp.connect(peerAddress)   // any node
 *   new Worker(..., { workerData: { wire: wire.handle }})  qp.postSend / rdmaWrite / rdmaRead, cq.poll / wait
 *   ... job runs ...
 *   await wire.close()
 *
 * - The main thread owns every socket: one TCP connection per pair of node processes, opened on
 *   first use (the lower node id's side dials when both would), setNoDelay. Every connection first
 *   presents the job's token; any other connection is closed.
 * - A post to a QP on another node runs its initiator half on the rank's thread (local key checks,
 *   the local port's transmit reservation, gathering the local bytes). A small frame then goes
 *   straight onto the peer's socket when its lane is idle (lanes.ts); anything else is one record
 *   in the process's outbox (shared memory), which the network thread ships. Only the network
 *   thread dials, reads and closes sockets. The responder half runs on the far process's network thread against its own tables,
 *   memory and port (the same key, bounds, access and domain checks; the same backend semantics).
 *   Completions come back as frames and are pushed into the initiator's CQ by its network thread.
 * - Virtual time: frames carry the virtual timestamps the formulas need (the post time and the
 *   first byte's departure from the transmit port), so each side's port calendar is reserved by
 *   the process that owns it, with the same numbers as in one process.
 * - Failures: a peer that closes its connection completes every operation waiting on it with
 *   RETRY_EXCEEDED (never a hang) and reports a NetworkError to `onError`; so does a frame with an
 *   unknown type or an impossible length (that connection is closed). Nothing throws out of the
 *   event loop.
 * - A connection is only for QPs: the launcher's own control traffic (PMI, QP address exchange,
 *   results) goes elsewhere.
 */
import type { Adapter } from '../adapter.js';
import type { NetworkError } from '../errors.js';

/** Where a node process listens. */
export interface ListenOptions {
  /** The node's adapter (created in this process: it owns the node). */
  adapter: Adapter;
  /** Address to listen on (the interface in use; never 0.0.0.0 unless asked). */
  host: string;
  /** 0 (default): any free port. */
  port?: number;
  /** The job's random token; every connection must present it first. */
  token: string;
  /** Bytes of the outbox the ranks write into (default 8 MiB; a larger record is streamed through it). */
  outboxBytes?: number;
  /**
   * After the last frame in or out, the network thread keeps polling (every turn of the event loop)
   * this long before it sleeps on the outbox's doorbell: lower latency while traffic flows, at the
   * cost of a busy core. Default 0: it sleeps at once, and a rank's record wakes it (Atomics.waitAsync).
   * On two shared cores polling starves the ranks (bench/net.ts: 8 B one-way 750 µs polling 50 µs
   * vs 260 µs not polling, under load); give it a window only where the node has a core to spare.
   */
  pollUs?: number;
  /** A peer closed or broke protocol; the wire keeps serving the others. Default: print the message to stderr. */
  onError?: (error: NetworkError) => void;
}

/** A peer node process, as connectPeers needs it. */
export interface PeerAddress {
  nodeId: number;
  /** "host:port", as the peer's wire.address. */
  address: string;
}

/** Structured-cloneable: put it in each rank worker's workerData and call NetworkWire.attach there. */
export interface NetworkWireHandle {
  kind: 'network-wire';
  nodeId: number;
  /** The outbox ring (rank threads → network thread). */
  outbox: SharedArrayBuffer;
  /** Who may write each peer connection's socket now (lanes.ts): rank threads write small frames onto an idle one. */
  lanes: SharedArrayBuffer;
  /** BroadcastChannel name on which rank threads announce their domains' page tables to the network thread. */
  channel: string;
}

