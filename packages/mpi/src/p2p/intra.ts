/**
 * Intra-node transports (issue 7) between ranks of one node, chosen by `--intra`:
 *   rdma   everything through the adapter's loopback (the default; what the study measures)
 *   shm    every message through the per-pair shared-memory ring: the sender copies in, the
 *          receiver copies out (double copy, pipelined), any size, no registration
 *   cma    eager messages as with rdma; rendezvous data by one process_vm_readv (single copy)
 *   xpmem  eager messages as with rdma; rendezvous data copied from the sender's exported address
 *          space through an attachment cache (single copy)
 *   auto   shm below the eager threshold, xpmem at and above it (what UCX and MVAPICH2 do)
 * The envelopes keep one sequence number per (sender, receiver) whatever path they take, so the
 * receiver matches them in send order (non-overtaking) although rings and adapter deliver apart.
 */
import type { IntranodeEndpoint, IntranodePeer, XpmemAttachCache, XpmemSegment } from '@tsmpi/fabric';
import type { IntraKind } from '../options.js';
import { ENVELOPE_BYTES, decodeEnvelope, encodeEnvelope, type Envelope } from './envelope.js';

/** Where the sender's exported address space starts (xpmem): page 16, above mmap_min_addr. */
export const SEGMENT_BASE = 0x10000;

/** What an shm send copies into the ring: a buffer of the rank, or an object message's bytes. */
export type RingSource = { addr: number; bytes?: undefined } | { bytes: Uint8Array; addr?: undefined };

/**
 * An shm message on its way in: the envelope came through the ring, the payload is still coming.
 * Popped chunks are staged here, off the rank's heap, and reach the receive buffer only in the
 * message's completion event, so what the rank's memory holds at each virtual time is the same in
 * every run (as an eager envelope's payload waits in the event, off the heap).
 */
export interface ShmIncoming {
  env: Envelope;
  /** payload bytes popped so far, into `data` */
  got: number;
  /** virtual time the receiver's copies out of the ring have reached */
  time: number;
  data: Uint8Array;
  /** its completion event ran: the whole payload is in `data`, copied out by `time` */
  complete: boolean;
  /** what the completion event calls, with the time the last copy ended (set by the match when it comes first) */
  done?: (time: number) => void;
}

/** Where the intra-node paths' events and posts go: the rank's timeline (scheduler.ts). */
export interface RingEvents {
  takeOrder(): number;
  schedule(time: number, origin: number, order: number, run: () => void): void;
  /** A post at virtual time `t`: runs once no rank can still act before it. */
  at(t: number, act: () => void): void;
}

interface ShmOutgoing {
  dest: number;
  header: Uint8Array;
  headerSent: boolean;
  source: RingSource;
  length: number;
  sent: number;
  time: number;
  /** its completion event's place among this rank's own (taken in program order) */
  order: number;
  done: (time: number) => void;
}

export interface IntraEnv {
  kind: IntraKind;
  /** this rank's world rank: the origin of its own events */
  rank: number;
  endpoint: IntranodeEndpoint;
  /** per world rank: the peer on this node, or undefined (self, or another node) */
  peers: readonly (IntranodePeer | undefined)[];
  /** this rank's exported segment (its whole address space above SEGMENT_BASE; xpmem and auto) */
  segment?: XpmemSegment;
  /** the device clock the engine positions before each operation (the endpoint charges it) */
  device: { readonly now: number; set(t: number): void };
  /** the rank's own pages: a send buffer is checked before its header enters the ring */
  space: { runs(addr: number, length: number, access: 'read' | 'write'): unknown };
}

/**
 * The rank's side of the intra-node transports: which path a message takes, the shm rings'
 * send queues and incoming messages (driven from the engine's progress), and the single-copy
 * read of a rendezvous. Which messages take which path is select.ts's decision.
 */
export class IntraPath {
  readonly kind: IntraKind;
  private readonly env: IntraEnv;
  private readonly outgoing: ShmOutgoing[][];
  private readonly incoming: (ShmIncoming | undefined)[];
  private readonly cache: XpmemAttachCache | undefined;
  private events: RingEvents = { takeOrder: () => 0, schedule: (_t, _o, _n, run) => run(), at: (_t, act) => act() };

  constructor(env: IntraEnv) {
    this.env = env;
    this.kind = env.kind;
    this.outgoing = env.peers.map(() => []);
    this.incoming = env.peers.map(() => undefined);
    this.cache = env.kind === 'xpmem' || env.kind === 'auto' ? env.endpoint.attachCache() : undefined;
  }

  /** The rank's timeline: every shm arrival and completion becomes an event there, at its virtual time. */
  bind(events: RingEvents): void {
    this.events = events;
  }

  /** Whether this rank's messages to node peers may take the rings (shm, auto). */
  get usesRings(): boolean {
    return this.kind === 'shm' || this.kind === 'auto';
  }

  /** Whether world rank `dest` is a peer on this node (self and other nodes are not). */
  onNode(dest: number): boolean {
    return this.env.peers[dest] !== undefined;
  }

  /** This rank's segment id: the RTS of an xpmem rendezvous carries it where an rkey would be. */
  get mySegid(): number {
    return this.env.segment?.segid ?? 0;
  }

  // ───────────────────────────── shm, sending ─────────────────────────────

  /**
   * Queue a message for the ring to `dest`: the envelope (already carrying its sequence number)
   * goes as its own chunk, then the payload. As much as fits is copied in now; the rest from
   * pump(). `done` runs as an event at the time the last byte is in the ring (the send buffer is free again).
   */
  send(dest: number, env: Envelope, source: RingSource, length: number, time: number, done: (time: number) => void): void {
    // a bad buffer must fail the send before anything is in the ring (a header without its payload
    // would derail the peer's stream): fault the pages in now, throwing SegmentationFault
    if (source.addr !== undefined && length > 0) this.env.space.runs(source.addr, length, 'read');
    const header = new Uint8Array(ENVELOPE_BYTES);
    encodeEnvelope(env, header);
    this.outgoing[dest]!.push({ dest, header, headerSent: false, source, length, sent: 0, time, order: this.events.takeOrder(), done });
    this.pumpTo(dest);
  }

  /** Push queued sends into rings that have room; true if anything moved. */
  pump(): boolean {
    let any = false;
    for (let d = 0; d < this.outgoing.length; d++) if (this.outgoing[d]!.length > 0 && this.pumpTo(d)) any = true;
    return any;
  }

  /** The endpoint's doorbell: read it before looking for work, then sleep(seen) if there was none. */
  get doorbell(): number {
    return this.env.endpoint.doorbell;
  }

  /** Sleep until a peer touches one of our rings (or `ms` passes). */
  sleep(seen: number, ms: number): void {
    this.env.endpoint.waitDoorbell(seen, ms);
  }

  get sendsQueued(): number {
    return this.outgoing.reduce((s, q) => s + q.length, 0);
  }

  /**
   * Messages whose envelope was read but whose payload is still (partly) in a ring. Its sender
   * completes only once the last byte left the ring, so the rank drains them before it finishes,
   * even a truncated receive's (failed at once, its payload dropped).
   */
  get receivesDraining(): number {
    return this.incoming.reduce((s, m) => s + (m !== undefined && m.got < m.env.length ? 1 : 0), 0);
  }

  private pumpTo(dest: number): boolean {
    const { endpoint, device } = this.env;
    const peer = this.env.peers[dest]!;
    const q = this.outgoing[dest]!;
    let any = false;
    while (q.length > 0) {
      const m = q[0]!;
      device.set(m.time);
      if (!m.headerSent) {
        if (endpoint.shmSendBytes(peer, m.header, m.length) === 0) break;
        m.headerSent = true;
        any = true;
      }
      if (m.sent < m.length) {
        const n = m.source.bytes !== undefined
          ? endpoint.shmSendBytes(peer, m.source.bytes.subarray(m.sent), m.length)
          : endpoint.shmSend(peer, m.source.addr + m.sent, m.length - m.sent, m.length);
        m.sent += n;
        any ||= n > 0;
      }
      m.time = device.now;
      if (m.sent < m.length) break;
      q.shift();
      const t = m.time;
      this.events.schedule(t, this.env.rank, m.order, () => m.done(t));
    }
    return any;
  }

  /**
   * The earliest event this rank's own shm work will still make (Infinity: none): a queued send's
   * completion (and, header not yet in the ring, its arrival at the peer), a message coming in (its
   * completion). Its bound covers them (scheduler.ts: heldElsewhere).
   */
  get heldTime(): number {
    let t = Infinity;
    // not only the first of a queue: a send queued behind one that waited for the receiver may be earlier
    for (const q of this.outgoing) for (const m of q) if (m.time < t) t = m.time;
    for (const m of this.incoming) if (m !== undefined && m.time < t) t = m.time;
    return t;
  }

  /** heldTime and the watermark of the rings into this rank: nothing of it may run at or after this before it drains. */
  get undrained(): number {
    return Math.min(this.heldTime, this.env.endpoint.shmWatermark);
  }

  /** What the rings held is in the timeline and published: the rings' watermark may rise (see shm-ring.ts). */
  retire(): void {
    this.env.endpoint.shmRetire();
  }

  // ───────────────────────────── shm, receiving ─────────────────────────────

  /**
   * Read what the rings hold: payload of the message in progress from each peer (staged), then the
   * next envelope. Every arrival is an event of the timeline: the envelope at the time its copy out
   * ended (`deliver` matches it in sequence order), the message's completion at the time its last
   * byte was out (ordered just after its envelope). True if anything moved.
   */
  poll(deliver: (env: Envelope, time: number, incoming: ShmIncoming) => void): boolean {
    const { endpoint, device } = this.env;
    let any = false;
    for (let from = 0; from < this.env.peers.length; from++) {
      const peer = this.env.peers[from];
      if (peer === undefined || (this.incoming[from] === undefined && endpoint.shmPending(peer) === 0)) continue;
      for (;;) {
        let cur = this.incoming[from];
        if (cur === undefined) {
          if (endpoint.shmPending(peer) === 0) break;
          device.set(0);
          const env = decodeEnvelope(endpoint.shmRecvBytes(peer, ENVELOPE_BYTES));
          const inc: ShmIncoming = { env, got: 0, time: device.now, data: new Uint8Array(env.length), complete: false };
          this.incoming[from] = cur = inc;
          any = true;
          this.events.schedule(inc.time, from, env.seq, () => deliver(env, inc.time, inc));
        }
        if (cur.got < cur.env.length) {
          device.set(cur.time);
          const n = endpoint.shmRecvTo(peer, cur.data.subarray(cur.got), cur.env.length);
          cur.got += n;
          cur.time = device.now;
          any ||= n > 0;
          if (cur.got < cur.env.length) break;
        }
        this.incoming[from] = undefined;
        const inc = cur;
        this.events.schedule(inc.time, from, inc.env.seq + 0.5, () => {
          inc.complete = true;
          const done = inc.done;
          inc.done = undefined;
          done?.(inc.time);
        });
      }
    }
    return any;
  }

  // ───────────────────────────── single copy ─────────────────────────────

  /**
   * Rendezvous data by one copy from the sender's buffer into `landing`, at the device clock's time
   * (set to the start): process_vm_readv, or a copy out of an attachment of the sender's segment.
   * It reads a peer's memory, which the peer's own program may free or change, so it is a post: it
   * runs once no rank can still act before its time. `done()` after the copy, `done(error)` with the
   * transport's IntranodeError when the sender's buffer is no longer there.
   */
  readSingle(route: 'cma' | 'xpmem', from: number, landing: number, remoteAddr: number, length: number, segid: number, done: (error?: unknown) => void): void {
    const t = this.env.device.now;
    this.events.at(t, () => {
      this.env.device.set(t);
      try {
        this.copySingle(route, from, landing, remoteAddr, length, segid);
      } catch (e) {
        done(e);
        return;
      }
      done();
    });
  }

  private copySingle(route: 'cma' | 'xpmem', from: number, landing: number, remoteAddr: number, length: number, segid: number): void {
    const { endpoint } = this.env;
    const peer = this.env.peers[from]!;
    if (route === 'cma') {
      const n = endpoint.cma.processVmReadv(peer, [{ addr: landing, length }], [{ addr: remoteAddr, length }]);
      if (n !== length) throw new Error(`process_vm_readv moved ${n} of ${length} bytes: part of rank ${from}'s send buffer is gone`);
      return;
    }
    // every rank exports the same range of its own address space; only the id differs
    const mine = this.env.segment!;
    const segment: XpmemSegment = { kind: 'xpmem-segment', segid, owner: peer, addr: mine.addr, length: mine.length, perm: 'rw' };
    const r = this.cache!.acquire(segment, remoteAddr, length);
    r.attachment.copyTo(landing, r.attAddr, length);
  }
}
