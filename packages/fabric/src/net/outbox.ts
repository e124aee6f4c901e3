import { NetworkError } from '../errors.js';
import { lock, unlock } from '../shared/lock.js';

/*
 * The outbox: rank threads → the network thread of one node process, a byte ring in shared memory.
 * A record is [u32 destination node][frame] (the frame starts with its own u32 body length), so
 * the network thread forwards records without knowing their types (it only stamps a sequence
 * number into operations).
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

  /** Append one record for node `dst`: `frame` (with its length prefix), then `payload` if any. Blocks while the ring is full. */
  put(dst: number, frame: Uint8Array, payload?: Uint8Array): void {
    lock(this.h, LOCK);
    try {
      this.prefixView.setUint32(0, dst, true);
      this.write(this.prefix);
      this.write(frame);
      if (payload !== undefined && payload.length > 0) this.write(payload);
    } finally {
      unlock(this.h, LOCK);
    }
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
      Atomics.store(h, TAIL, (tail + n) | 0);
      Atomics.add(h, BELL, 1);
      if (Atomics.load(h, NET_WAITING) !== 0) Atomics.notify(h, BELL);
      off += n;
    }
  }

  private waitForRoom(): void {
    const h = this.h;
    if (Atomics.load(h, CLOSED) !== 0) {
      throw new NetworkError('closed', 'the network thread', 'the node process closed its network wire; no more operations can be sent');
    }
    const head = Atomics.load(h, HEAD);
    Atomics.add(h, SPACE_WAITERS, 1);
    Atomics.wait(h, HEAD, head, 50);
    Atomics.sub(h, SPACE_WAITERS, 1);
  }

  // ---------------------------------------------------------------- consumer (network thread)

  /** Bytes published and not yet read. */
  get available(): number {
    return (Atomics.load(this.h, TAIL) - this.h[HEAD]!) | 0;
  }

  /** The doorbell, read before checking for work and handed to waitAsync. */
  get bell(): number {
    return Atomics.load(this.h, BELL);
  }

  /** A u32 at `offset` past the head, without consuming it (the caller checked `available`). */
  peekU32(offset: number): number {
    const head = this.h[HEAD]!;
    let v = 0;
    for (let i = 3; i >= 0; i--) v = v * 256 + this.data[(head + offset + i) & this.mask]!;
    return v;
  }

  /** Consume `n` bytes (≤ available) into `into` at `at` (or drop them when `into` is undefined). */
  read(n: number, into?: Uint8Array, at = 0): void {
    const h = this.h;
    const head = h[HEAD]!;
    if (into !== undefined) {
      const from = head & this.mask;
      const first = Math.min(n, this.capacity - from);
      into.set(this.data.subarray(from, from + first), at);
      if (first < n) into.set(this.data.subarray(0, n - first), at + first);
    }
    Atomics.store(h, HEAD, (head + n) | 0);
    if (Atomics.load(h, SPACE_WAITERS) !== 0) Atomics.notify(h, HEAD);
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
