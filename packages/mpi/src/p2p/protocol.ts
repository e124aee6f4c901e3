import type { Status } from '../status.js';
import type { EngineEnv } from './engine.js';
import type { Envelope, KindValue } from './envelope.js';
import type { RingSource, ShmIncoming } from './intra.js';
import type { Arrival, Payload, RecvOp, Route, SendOp } from './operations.js';

/**
 * A protocol module (after UCX's protocols): how one message travels, sender side and receiver
 * side. The engine core picks a protocol per send (selectProtocol), keeps ordering and matching,
 * and calls the module at four points; a new protocol (pipelined rendezvous, one-sided) is one
 * more module, its envelopes routed to it by `accepts`.
 */
export interface Protocol extends EnvelopeHandler {
  readonly name: ProtocolName;
  /** Sender side: start `op`; complete its request now, or later through the host. */
  send(route: Route, op: SendOp, payload: Payload, status: Status): void;
  /** A matched arrival that fits its receive: deliver it, starting at virtual time `start`. */
  receive(recv: RecvOp, a: Arrival, status: Status, start: number): void;
  /** A matched arrival too large for its receive (the receive already failed): let go of what the message holds. */
  drop(a: Arrival, start: number): void;
}

/** The receiving end of envelopes: a protocol, or a control message (FIN) shared by protocols. */
export interface EnvelopeHandler {
  /** Whether `env` is this handler's (its kind, and flags where kinds are shared). */
  accepts(env: Envelope): boolean;
  /** An envelope it accepts, in sequence order (from the adapter or a ring); usually becomes an Arrival. */
  onEnvelope(env: Envelope, payload: Uint8Array, time: number, from: number, incoming?: ShmIncoming): void;
}

export type ProtocolName =
  | 'self' | 'eager' | 'shm' | 'rendezvous-rdma' | 'rendezvous-pipeline' | 'rendezvous-single-copy' | 'pack' | 'rendezvous-sge';

/** What a protocol sees of the rank: no queue pair, completion queue or ring; those go through the host's posts. */
export type ProtocolEnv = Omit<EngineEnv, 'qps' | 'cq' | 'srq' | 'pool' | 'ctrl' | 'intra'>;

/**
 * What the engine core offers protocol modules. The `post…` methods are the only places a
 * protocol touches a resource shared in virtual time (a bounce send, an RDMA read, a ring, a
 * single-copy read): each starts at the device clock's current time, which the caller positioned.
 */
export interface ProtocolHost {
  readonly env: ProtocolEnv;
  /** A fresh id for a send waiting on its FIN, or a read in flight. */
  newId(): number;
  /** A free bounce send slot; blocks in progress until one comes back. */
  takeSendSlot(op: SendOp): number;
  envelope(kind: KindValue, context: number, source: number, tag: number, length: number): Envelope;
  /** Sends `env` (and `frame`'s payload after it) from bounce slot `slot`, stamping the next sequence number. */
  postSend(destWorld: number, slot: number, env: Envelope, frame?: Uint8Array): void;
  /** A control envelope from inside progress: never blocks; sent later at its due time if no slot is free. */
  postControl(destWorld: number, env: Envelope): void;
  /** RDMA-reads `length` bytes of `destWorld`'s registration into `landing`; `done(status, time)` on completion. */
  postRead(destWorld: number, read: RdmaRead, done: (status: number, time: number) => void): void;
  /** Sends `env` and the payload through the shm ring to `destWorld`, stamping the next sequence number. */
  postRing(destWorld: number, env: Envelope, source: RingSource, length: number, done: (time: number) => void): void;
  /** One copy from a node peer's buffer (CMA or XPMEM) into `landing`, in virtual-time order; `done(error)` when the peer's buffer is gone. */
  postSingleCopy(route: SingleCopyRoute, from: number, landing: number, remoteAddr: number, length: number, segid: number, done: (error?: unknown) => void): void;
  /** This rank's xpmem segment id (0 without xpmem). */
  readonly segid: number;
  /** A message arrived: match it against the posted receives or queue it. */
  arrive(a: Arrival): void;
  /** `op` now waits for the receiver (FIN, or a matched synchronous self-send); finalize waits for it. */
  awaitReceiver(op: SendOp): void;
  pendingSend(id: number): SendOp | undefined;
  /** The send is done at `time`: its registration and temporary let go, its request completed. */
  completeSend(op: SendOp, time: number): void;
  /** The send failed at `time` (the receiver could not read it). */
  failSend(op: SendOp, error: Error, time: number): void;
}

export interface RdmaRead {
  lkey: number;
  landing: number;
  length: number;
  remoteAddr: number;
  rkey: number;
  /** the landing as a scatter/gather list instead (at most the adapter's maxSge pieces) */
  sgl?: readonly { lkey: number; addr: number; length: number }[];
}

export type SingleCopyRoute = 'cma' | 'xpmem';
