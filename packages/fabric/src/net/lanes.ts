import { writevSync } from 'node:fs';

/*
 * Socket lanes: who may write a peer connection's socket at this moment. The network thread owns
 * every socket (it reads it, dials it, closes it, and writes through Node whenever bytes must
 * wait), but an idle socket takes a small frame straight from the thread that made it, in one
 * writev on the socket's descriptor: a rank's post reaches the kernel without waking the network
 * thread first (one thread hand-off less per message; bench/net.ts measures it). One row of Int32
 * cells per peer node, in shared memory:
 *
 *   FD       the socket's descriptor + 1; 0: no direct writes (not connected yet, or closed)
 *   STATE    IDLE     nothing is being written: a writer takes the lane by CAS IDLE → WRITING
 *            WRITING  one thread is in its writev (non-blocking; it ends by putting IDLE back)
 *            QUEUED   bytes wait in Node's queue of the socket: only the network thread writes,
 *                     in order, until its queue is empty and it puts IDLE back (settle)
 *   CLOSING  1: the network thread is closing the socket; a writer stops retrying a partial write
 *
 * A frame is written whole or not at all: a writer that got only part of it out keeps writing the
 * rest (a rank, sleeping briefly while the socket is full) or queues the rest in Node first (the
 * network thread), so frames never interleave. Order: a rank writes directly only once its earlier
 * records for that node have left the outbox (RemotePort checks), and the network thread writes
 * only through this lane, so each thread's frames to a node stay in the order it made them.
 */
const FD = 0;
const STATE = 1;
const CLOSING = 2;
const ROW = 4;
/** Header cells before the rows: the node's operation sequence numbers; frames the rank threads wrote directly. */
const SEQ = 0;
const WRITTEN = 1;
const HEADER = 4;

export const IDLE = 0;
export const WRITING = 1;
export const QUEUED = 2;

/** Peer node ids with a lane (ids above always go through the network thread). */
export const MAX_LANES = 4096;
/** Frames up to this many bytes are written directly; larger ones stream through the outbox. */
export const DIRECT_MAX_BYTES = 16 << 10;

export function createLanes(): SharedArrayBuffer {
  return new SharedArrayBuffer((HEADER + MAX_LANES * ROW) * 4);
}

/** How a direct write went: all of it, or none of it (the lane was busy, or the socket full). */
export type Written = 'all' | 'none';

export class SocketLanes {
  private readonly c: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.c = new Int32Array(buffer);
  }

  /** The next operation sequence number of this node (every thread draws from one counter). */
  nextSeq(): number {
    return (Atomics.add(this.c, SEQ, 1) + 1) >>> 0;
  }

  /** Frames the rank threads wrote directly so far (the network thread counts its own). */
  get written(): number {
    return Atomics.load(this.c, WRITTEN);
  }

  has(node: number): boolean {
    return Number.isInteger(node) && node >= 0 && node < MAX_LANES;
  }

  state(node: number): number {
    return Atomics.load(this.c, this.row(node) + STATE);
  }

  /**
   * A rank thread: write `parts` (one whole frame) to node `node`'s socket now, if its lane is
   * idle. 'none' when nothing was written (send it through the outbox instead).
   */
  tryWrite(node: number, parts: Uint8Array[]): Written {
    const r = this.row(node);
    const c = this.c;
    if (Atomics.compareExchange(c, r + STATE, IDLE, WRITING) !== IDLE) return 'none';
    const fd = Atomics.load(c, r + FD) - 1;
    let n = fd < 0 ? 0 : writeSome(fd, parts);
    if (n <= 0) {
      Atomics.store(c, r + STATE, IDLE);
      return 'none';
    }
    // Part of the frame is out: the rest must follow before anyone else's bytes.
    const total = parts.reduce((s, p) => s + p.length, 0);
    while (n < total) {
      if (Atomics.load(c, r + CLOSING) !== 0) break; // the connection is going: its operations fail as a whole
      const m = writeSome(fd, after(parts, n));
      if (m < 0) break;
      if (m === 0) Atomics.wait(c, r + CLOSING, 0, 0.05);
      n += m;
    }
    Atomics.store(c, r + STATE, n < total ? QUEUED : IDLE);
    Atomics.notify(c, r + STATE);
    Atomics.add(c, WRITTEN, 1);
    return 'all';
  }

  // ---------------------------------------------------------------- the network thread

  /** The connection to `node` is ready: direct writes may start (after what Node still queues, if `queued`). */
  open(node: number, fd: number, queued: boolean): void {
    const r = this.row(node);
    Atomics.store(this.c, r + CLOSING, 0);
    Atomics.store(this.c, r + STATE, queued ? QUEUED : IDLE);
    Atomics.store(this.c, r + FD, fd + 1);
  }

  /**
   * The network thread's own write: directly when the lane is idle ('all' or, with `rest`, the
   * unwritten part to queue in Node, the lane then QUEUED), or 'busy' (a rank is writing: try
   * again on the next turn), or 'queued' (Node's queue comes first: write through it).
   */
  write(node: number, parts: Uint8Array[]): { kind: 'all' } | { kind: 'rest'; rest: Uint8Array[] } | { kind: 'busy' | 'queued' } {
    const r = this.row(node);
    const c = this.c;
    const s = Atomics.compareExchange(c, r + STATE, IDLE, WRITING);
    if (s === WRITING) return { kind: 'busy' };
    if (s === QUEUED) return { kind: 'queued' };
    const fd = Atomics.load(c, r + FD) - 1;
    const n = fd < 0 ? 0 : Math.max(0, writeSome(fd, parts));
    const total = parts.reduce((t, p) => t + p.length, 0);
    if (n === total) {
      Atomics.store(c, r + STATE, IDLE);
      return { kind: 'all' };
    }
    Atomics.store(c, r + STATE, QUEUED);
    return { kind: 'rest', rest: after(parts, n) };
  }

  /** Claim the lane for Node's queue: false while a rank is in its writev. */
  queue(node: number): boolean {
    const s = Atomics.compareExchange(this.c, this.row(node) + STATE, IDLE, QUEUED);
    return s !== WRITING;
  }

  /** Node's queue of the socket is empty: direct writes may resume. */
  settle(node: number): void {
    Atomics.compareExchange(this.c, this.row(node) + STATE, QUEUED, IDLE);
  }

  /** The socket of descriptor `fd` is about to close (the number may be reused): no direct write to it from now on. */
  shut(node: number, fd: number): void {
    const r = this.row(node);
    const c = this.c;
    if (Atomics.load(c, r + FD) !== fd + 1) return; // a newer connection's lane
    Atomics.store(c, r + CLOSING, 1);
    Atomics.notify(c, r + CLOSING);
    for (;;) {
      const s = Atomics.compareExchange(c, r + STATE, IDLE, QUEUED);
      if (s !== WRITING) break;
      Atomics.wait(c, r + STATE, WRITING, 1);
    }
    Atomics.store(c, r + FD, 0);
  }

  private row(node: number): number {
    return HEADER + node * ROW;
  }
}

/** One writev; the bytes written, 0 when the socket is full, -1 when it failed (the network thread will see why). */
function writeSome(fd: number, parts: Uint8Array[]): number {
  try {
    return writevSync(fd, parts.length > 1024 ? parts.slice(0, 1024) : parts);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EAGAIN' ? 0 : -1;
  }
}

/** The pieces of `parts` after its first `n` bytes. */
export function after(parts: Uint8Array[], n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const p of parts) {
    if (n >= p.length) {
      n -= p.length;
      continue;
    }
    out.push(n > 0 ? p.subarray(n) : p);
    n = 0;
  }
  return out;
}
