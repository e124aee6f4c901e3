import { NetworkError } from '../errors.js';
import { lock, unlock } from '../shared/lock.js';

/*
 * The outbox: rank threads → the network thread of one node process, a byte ring in shared memory.
 * A record is [u32 destination node][frame] (the frame starts with its own u32 body length),
 * padded to 8 bytes, so the network thread forwards records without knowing their types. A NOTE
 * record (destination | NOTE) carries only an operation's header: the rank wrote the frame onto
 * the socket itself (lanes.ts), and the network thread only remembers the operation (in-flight.ts). A record reserved whole (reserve/commit: the rank
 * gathers its bytes straight into the ring) never wraps: when it does not fit before the end,
 * a SKIP record fills the rest and it starts at the beginning.
 *
 *   header (Int32 cells)                 data (capacity bytes, a power of two)
 *   LOCK    producers, for a whole record    ─┬─ head ──── records ──── tail ─┬─
 *   HEAD    consumer (network thread)         └──────── free ─────────────────┘
 *   TAIL    producer holding LOCK
 *   BELL    +1 per published piece; what the network thread waits on
 *   NET_WAITING  1 while the network thread is parked on BELL (futex pattern, as the CQ's)
 *   SPACE_WAITERS producers waiting for the consumer to free room
 *   CLOSED  1: the network thread is gone; producers throw instead of waiting
 *
 * A producer publishes each piece as it is copied (TAIL), so a record larger than the ring streams
 * through it while the network thread drains. Positions are int32 counters that wrap; used bytes
 * are (tail - head) | 0, never above the capacity (< 2^31).
 */
const LOCK = 0;
const HEAD = 1;
const TAIL = 2;
const BELL = 3;
const NET_WAITING = 4;
const SPACE_WAITERS = 5;
const CLOSED = 6;
const HEADER_BYTES = 64;

export const DEFAULT_OUTBOX_BYTES = 8 << 20;
/** The destination of a record that only fills the ring's end (its body is dropped). */
export const SKIP = 0xffffffff;
/** Destination flag of a NOTE record. */
export const NOTE = 0x40000000;
const align8 = (n: number): number => (n + 7) & ~7;
const ZEROS = new Uint8Array(8);

// Node 20 has Atomics.waitAsync; the project's lib (ES2023) does not declare it yet.
type WaitAsyncResult = { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): WaitAsyncResult }).waitAsync;

/** A fresh outbox of at least `bytes` bytes of ring (rounded up to a power of two ≥ 64 KiB). */
export function createOutbox(bytes = DEFAULT_OUTBOX_BYTES): SharedArrayBuffer {
  const cap = 2 ** Math.max(16, Math.ceil(Math.log2(bytes)));
  return new SharedArrayBuffer(HEADER_BYTES + cap);
}

export class Outbox {
  readonly capacity: number;
  private readonly h: Int32Array;
  private readonly data: Uint8Array;
  private readonly mask: number;
  private readonly prefix = new Uint8Array(4);
  private readonly prefixView = new DataView(this.prefix.buffer);

  constructor(readonly buffer: SharedArrayBuffer) {
    this.h = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.data = new Uint8Array(buffer, HEADER_BYTES);
    this.capacity = this.data.length;
    this.mask = this.capacity - 1;
  }

  // ---------------------------------------------------------------- producers (rank threads)

  /**
   * Append one record for node `dst`: `frame` (with its length prefix), then `payload` if any.
   * Blocks while the ring is full. Returns the ring position after the record (see `head`).
   */
  put(dst: number, frame: Uint8Array, payload?: Uint8Array): number {
    lock(this.h, LOCK);
    try {
      this.prefixView.setUint32(0, dst, true);
      this.write(this.prefix);
      this.write(frame);
      const n = 4 + frame.length + (payload?.length ?? 0);
      if (payload !== undefined && payload.length > 0) this.write(payload);
      if (align8(n) > n) this.write(ZEROS.subarray(0, align8(n) - n));
      return this.h[TAIL]!;
    } finally {
      unlock(this.h, LOCK);
    }
  }

  /**
   * Reserve a whole record of `bytes` (destination prefix included) in one piece, for the caller
   * to fill in place: returns its offset in `data`, with the producers' lock held until commit()
   * or abort(). Undefined (nothing held) when it is too large for that: use put().
   */
  reserve(bytes: number): number | undefined {
    const size = align8(bytes);
    if (size > this.capacity / 2) return undefined;
    const h = this.h;
    lock(h, LOCK);
    try {
      let at = h[TAIL]! & this.mask;
      if (this.capacity - at < size) {
        // Fill the end with a SKIP record and start over at the beginning.
        const rest = this.capacity - at;
        while (this.capacity - ((h[TAIL]! - Atomics.load(h, HEAD)) | 0) < rest) this.waitForRoom();
        const v = new DataView(this.data.buffer, this.data.byteOffset + at, 8);
        v.setUint32(0, SKIP, true);
        v.setUint32(4, rest - 8, true);
        this.publish(rest);
        at = 0;
      }
      while (this.capacity - ((h[TAIL]! - Atomics.load(h, HEAD)) | 0) < size) this.waitForRoom();
      return at;
    } catch (e) {
      unlock(h, LOCK);
      throw e;
    }
  }

  /** The ring's bytes (a reserved record is filled here, at the offset reserve() gave). */
  get bytes(): Uint8Array {
    return this.data;
  }

  /**
   * Publish the record reserved for `bytes` and release the producers' lock; the ring position
   * after it. `quiet`: do not wake the network thread (a NOTE waits for its next turn).
   */
  commit(bytes: number, quiet = false): number {
    this.publish(align8(bytes), quiet);
    const end = this.h[TAIL]!;
    unlock(this.h, LOCK);
    return end;
  }

  /**
   * A NOTE for node `dst`: the operation whose frame `frame` (length prefix, then `header` bytes
   * of fixed header from the type byte on) the rank is about to write onto the socket itself.
   * Written before the frame leaves, so the network thread knows the operation before its answer
   * can come back.
   */
  note(dst: number, frame: Uint8Array, header: number): void {
    const bytes = 8 + header;
    const at = this.reserve(bytes)!;
    const d = this.data;
    d.set(frame.subarray(4, 4 + header), at + 8);
    const v = new DataView(d.buffer, d.byteOffset + at, 8);
    v.setUint32(0, (dst | NOTE) >>> 0, true);
    v.setUint32(4, header, true);
    this.commit(bytes, true);
  }

  /**
   * Where the network thread has released records up to: a record that ended at ring position
   * `end` (put / commit) has left the outbox (its bytes are on the socket) once
   * ((head - end) | 0) >= 0.
   */
  get head(): number {
    return Atomics.load(this.h, HEAD);
  }

  /** Give up a reservation: nothing is published. */
  abort(): void {
    unlock(this.h, LOCK);
  }

  private publish(n: number, quiet = false): void {
    const h = this.h;
    Atomics.store(h, TAIL, (h[TAIL]! + n) | 0);
    Atomics.add(h, BELL, 1);
    if (!quiet && Atomics.load(h, NET_WAITING) !== 0) Atomics.notify(h, BELL);
  }

  private write(src: Uint8Array): void {
    const h = this.h;
    let off = 0;
    while (off < src.length) {
      const tail = h[TAIL]!;
      const free = this.capacity - ((tail - Atomics.load(h, HEAD)) | 0);
      if (free === 0) {
        this.waitForRoom();
        continue;
      }
      const n = Math.min(free, src.length - off);
      const at = tail & this.mask;
      const first = Math.min(n, this.capacity - at);
      this.data.set(src.subarray(off, off + first), at);
      if (first < n) this.data.set(src.subarray(off + first, off + n), 0);
      this.publish(n);
      off += n;
    }
  }

  private waitForRoom(): void {
    const h = this.h;
    if (Atomics.load(h, CLOSED) !== 0) {
      throw new NetworkError('closed', 'the network thread', 'the node process closed its network wire; no more operations can be sent');
    }
    const head = Atomics.load(h, HEAD);
    // quiet NOTEs may be what fills it: make sure the network thread is up to drain them
    if (Atomics.load(h, NET_WAITING) !== 0) Atomics.notify(h, BELL);
    Atomics.add(h, SPACE_WAITERS, 1);
    Atomics.wait(h, HEAD, head, 50);
    Atomics.sub(h, SPACE_WAITERS, 1);
  }

  // ---------------------------------------------------------------- consumer (network thread)

  /** Bytes published and not yet taken by the consumer. */
  get available(): number {
    return (Atomics.load(this.h, TAIL) - this.cursor) | 0;
  }

  /**
   * Hand every record published so far to `take`, in order: its destination, its frame (with the
   * length prefix) as one or two views of the ring (two when it wraps), and `release`, to call once
   * the bytes are no longer needed (the socket has written them): until then producers cannot
   * overwrite them. A record larger than half the ring is copied out as it streams in instead (it
   * may never be whole in the ring); its `release` frees its last piece. True when any byte moved.
   */
  drain(take: (dst: number, frame: Uint8Array[], release: () => void) => void): boolean {
    let moved = false;
    for (;;) {
      const avail = this.available;
      const r = this.record;
      if (r !== undefined) {
        if (r.filled < r.frame.length) {
          const n = Math.min(avail, r.frame.length - r.filled);
          if (n === 0) return moved;
          r.filled += n;
          moved = true;
          const whole = r.filled === r.frame.length;
          const last = this.copyOut(n, r.frame, r.filled - n, !whole);
          // Its last bytes stay held until the frame is written, as a record in the ring does:
          // a producer that sees HEAD past its record may write its next frame directly (lanes.ts).
          if (whole) take(r.dst, [r.frame], () => this.release(last));
          continue;
        }
        if (this.available < r.pad) return moved;
        this.copyOut(r.pad);
        this.record = undefined;
        continue;
      }
      if (avail < 8) return moved;
      const dst = this.peekU32(0);
      const body = this.peekU32(4);
      if (dst === SKIP) {
        if (avail < 8 + body) return moved;
        this.copyOut(8 + body); // the ring's end, left empty by a record that starts over at the beginning
        moved = true;
        continue;
      }
      const size = align8(8 + body);
      if (size > this.capacity / 2) {
        this.copyOut(4);
        this.record = { dst, frame: Buffer.allocUnsafe(4 + body), filled: 0, pad: size - (8 + body) };
        continue;
      }
      if (avail < size) return moved;
      const views = this.views(this.cursor + 4, 4 + body);
      this.cursor = (this.cursor + size) | 0;
      const seg = { size, done: false };
      this.held.push(seg);
      moved = true;
      take(dst, views, () => this.release(seg));
    }
  }

  /** Records handed out, oldest first; HEAD moves past a prefix of released ones. */
  private readonly held: Array<{ size: number; done: boolean }> = [];
  /** Where the consumer reads next (ahead of HEAD by what is still held). */
  private cursor = 0;
  private record: { dst: number; frame: Buffer; filled: number; pad: number } | undefined;

  private release(seg: { size: number; done: boolean }): void {
    if (seg.done) return;
    seg.done = true;
    let freed = 0;
    while (this.held.length > 0 && this.held[0]!.done) freed += this.held.shift()!.size;
    if (freed > 0) this.advanceHead(freed);
  }

  private advanceHead(n: number): void {
    const h = this.h;
    Atomics.store(h, HEAD, (h[HEAD]! + n) | 0);
    if (Atomics.load(h, SPACE_WAITERS) !== 0) Atomics.notify(h, HEAD);
  }

  /** `n` bytes at ring position `from`, as one view or two (wrapped). */
  private views(from: number, n: number): Uint8Array[] {
    const at = from & this.mask;
    const first = Math.min(n, this.capacity - at);
    const base = this.data.byteOffset;
    const out = [Buffer.from(this.data.buffer, base + at, first)];
    if (first < n) out.push(Buffer.from(this.data.buffer, base, n - first));
    return out;
  }

  /** The doorbell, read before checking for work and handed to waitAsync. */
  get bell(): number {
    return Atomics.load(this.h, BELL);
  }

  /** A u32 at `offset` past the cursor. */
  private peekU32(offset: number): number {
    let v = 0;
    for (let i = 3; i >= 0; i--) v = v * 256 + this.data[(this.cursor + offset + i) & this.mask]!;
    return v;
  }

  /**
   * Take `n` bytes (≤ available) at the cursor, copied into `into` at `at` or dropped; their room
   * is free at once (once older records are released), or when the returned segment is released.
   */
  private copyOut(n: number, into?: Uint8Array, at = 0, release = true): { size: number; done: boolean } {
    if (into !== undefined) for (const v of this.views(this.cursor, n)) {
      into.set(v, at);
      at += v.length;
    }
    this.cursor = (this.cursor + n) | 0;
    const seg = { size: n, done: false };
    this.held.push(seg);
    if (release) this.release(seg);
    return seg;
  }

  /**
   * Resolves when a producer rings after `seen` (at once if one already has). Announces the
   * network thread first, as the CQ's waiters do, so a producer notifies only when it is parked.
   */
  waitAsync(seen: number): Promise<unknown> | undefined {
    Atomics.store(this.h, NET_WAITING, 1);
    const r = waitAsync(this.h, BELL, seen);
    if (!r.async) {
      Atomics.store(this.h, NET_WAITING, 0);
      return undefined;
    }
    return r.value.then(() => Atomics.store(this.h, NET_WAITING, 0));
  }

  /** The network thread is gone: producers stop waiting for room. */
  close(): void {
    Atomics.store(this.h, CLOSED, 1);
    Atomics.notify(this.h, HEAD);
    Atomics.add(this.h, BELL, 1);
    Atomics.notify(this.h, BELL);
  }
}
