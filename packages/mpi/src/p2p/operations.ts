import type { Request } from '../request.js';
import type { RegistrationPort } from './ports.js';
import type { ShmIncoming } from './intra.js';
import type { MatchKey } from './matching.js';
import type { Protocol } from './protocol.js';

/** A communicator as the engine sees it: its context, the caller's rank in it, and rank → world rank. */
export interface Route {
  readonly context: number;
  readonly rank: number;
  readonly size: number;
  world(rank: number): number;
}

/**
 * A buffer in the rank's simulated memory, or bytes an object message carries. `gather`: the
 * buffer is non-contiguous (a derived datatype): `length` bytes in these segments, in order, within
 * `span`; only the pack and sge protocols take it (p2p/noncontig.ts).
 */
export type Payload = { addr: number; length: number; gather?: Gather } | { bytes: Uint8Array };

/** A range of the rank's memory. */
export interface Range {
  readonly addr: number;
  readonly length: number;
}

/** The pieces of a non-contiguous buffer, in typemap order, and the range they lie in. */
export interface Gather {
  readonly segments: readonly Range[];
  readonly span: Range;
}
/** Where a receive lands: a buffer (capacity in bytes) or 'object' (sized on arrival, never truncates). */
export type Target = {
  addr: number; capacity: number; elementSize: number;
  /** a staging landing (non-contiguous datatype): unpacks once the program sees the posted receive complete */
  finish?: (req: Request) => Request;
  /** the receive's own non-contiguous layout: an sge rendezvous reads straight into it (and says so in `landed`) */
  direct?: Gather & { landed: boolean };
} | 'object';

/** A send in flight: from isend until its protocol completes it (at once, or on the receiver's FIN). */
export interface SendOp {
  req: Request;
  id: number;
  destWorld: number;
  dest: number;
  tag: number;
  length: number;
  /** the registration of the send buffer (RDMA rendezvous), released when the send completes */
  reg?: RegistrationPort;
  /** a temporary holding an object message's bytes (rendezvous), freed when the send completes */
  temp?: number;
  /** ssend/issend: complete only once the receiver has matched the message */
  synchronous?: boolean;
  /** a persistent send's registration, acquired at its first start and kept until free() */
  held?: HeldRegistration;
}

/** How a send is made beyond its buffer: synchronous, and/or holding a persistent registration. */
export type SendMode = Pick<SendOp, 'synchronous' | 'held'>;

/** Where a persistent send keeps its registration between starts (the rendezvous fills it in). */
export interface HeldRegistration {
  reg?: RegistrationPort;
}

/** A posted receive. */
export interface RecvOp extends MatchKey {
  req: Request;
  target: Target;
  postTime: number;
}

/** A message that reached this rank, waiting in the unexpected queue or being matched. */
export interface Arrival extends MatchKey {
  /** the protocol that delivers it once matched */
  protocol: Protocol;
  length: number;
  time: number;
  fromWorld: number;
  /** the payload, already here (eager, buffered self-send) */
  data?: Uint8Array;
  /** RTS: the sender's buffer (rkey, or the xpmem segid) */
  rkey?: number;
  addr?: number;
  sendId?: number;
  /** a synchronous self-send: the sender's buffer, copied when the receive matches */
  selfSend?: { op: SendOp; addr: number };
  /** RTS: Flags.CMA / Flags.XPMEM select a single-copy read */
  flags?: number;
  /** shm: the payload still coming through the ring */
  shm?: ShmIncoming;
  /** sge RTS: the sender's segments, as offsets from `addr` */
  remoteSegments?: readonly Range[];
}
