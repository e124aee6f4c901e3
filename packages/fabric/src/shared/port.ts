import { lock, unlock } from './lock.js';

/*
 * The adapter's one HCA port, in virtual time. Each direction (transmit, receive) keeps a calendar
 * of the intervals its link is busy: a transfer of n bytes occupies the sender's transmit side for
 * n·G and the receiver's receive side for n·G, so consecutive bytes through one port are spaced by
 * G (LogGP's gap) and no set of transfers beats the link's bandwidth.
 *
 * Who mutates it: any rank thread that posts a transfer touching this port (its own sends and
 * writes: transmit; reads it issues: receive; a peer's sends and writes to it: receive; a peer's
 * reads from it: transmit). Every access holds PORT_LOCK for a few dozen float compares, so the
 * plain Float64 reads and writes inside are ordered by the lock's Atomics.
 *
 * Why a calendar and not one "free at" time per direction: ranks' virtual clocks drift apart, so
 * a post made later in real time may be earlier in virtual time than a reservation already made
 * (a lagging rank, an engine placing its device clock at an arrival time). With one free-at time it
 * would queue behind traffic in its virtual future. It takes the earliest gap at or after its ready
 * time instead; for posts in virtual-time order this is exactly free-at = max(ready, freeAt).
 */

/**
 * Busy intervals kept per direction. When one more arrives, the two separated by the smallest gap
 * merge (that gap becomes busy): conservative, and the error is the smallest one available.
 */
export const PORT_INTERVALS = 128;

/**
 * Intervals closer than this (µs) coalesce: start_i + n·G + L and start_i + L + n·G differ in the
 * last bit, and a stream of back-to-back transfers should stay one interval.
 */
const TOUCH_US = 1e-6;

export const PORT_TX = 0;
export const PORT_RX = 1;
export type PortDirection = typeof PORT_TX | typeof PORT_RX;

/** Int32 cell 0 is the lock; the Float64 words start at index 1 (byte 8). */
const PORT_LOCK = 0;
const DIR_AT = 1;
// Per direction: header words, then PORT_INTERVALS + 1 × (start, end), sorted by start, disjoint
// (one spare slot: an insertion may overfill by one before the closest pair merges).
const D_COUNT = 0;
const D_RESERVATIONS = 1; // transfers that reserved this direction
const D_WAITED = 2; // ... whose occupancy began later than they were ready (the port was busy; > TOUCH_US)
const D_BACKFILLED = 3; // ... placed before a later reservation (a gap in the calendar)
const D_MERGED = 4; // times the calendar overflowed and its closest two intervals merged
const D_BUSY_US = 5; // total occupancy reserved (µs)
const D_HEADER = 6;
const DIR_WORDS = D_HEADER + 2 * (PORT_INTERVALS + 1);

export const PORT_BYTES = (DIR_AT + 2 * DIR_WORDS) * 8;

/** One direction's counters (exact; read under the lock). */
export interface PortDirectionStats {
  /** Virtual µs at which the last reserved occupancy ends (0: never used). */
  freeAt: number;
  reservations: number;
  waited: number;
  backfilled: number;
  merged: number;
  busyUs: number;
}

export interface PortStats {
  transmit: PortDirectionStats;
  receive: PortDirectionStats;
}

/** Typed views over one adapter's port buffer (the same SharedArrayBuffer in every thread). */
export class Port {
  readonly i32: Int32Array;
  readonly f64: Float64Array;

  constructor(buffer: SharedArrayBuffer) {
    this.i32 = new Int32Array(buffer);
    this.f64 = new Float64Array(buffer);
  }

  /**
   * Reserve `duration` µs of one direction, beginning no earlier than `ready`: the earliest gap
   * that fits. Returns when the occupancy begins. A zero duration still waits out an interval
   * that covers `ready` (a header does not overtake the bytes ahead of it).
   */
  reserve(dir: PortDirection, ready: number, duration: number): number {
    const f = this.f64;
    const base = DIR_AT + dir * DIR_WORDS;
    lock(this.i32, PORT_LOCK);
    const count = f[base + D_COUNT]!;
    const at = base + D_HEADER;
    let begin = ready;
    // Intervals ending at or before `ready` cannot matter; skip them (binary search: the intervals
    // are sorted and disjoint, so their ends ascend too, and a full calendar holds PORT_INTERVALS,
    // which a linear skip walked on every post), then walk the gaps.
    let i = 0;
    let hi = count;
    while (i < hi) {
      const mid = (i + hi) >>> 1;
      if (f[at + 2 * mid + 1]! <= begin) i = mid + 1;
      else hi = mid;
    }
    for (; i < count; i++) {
      const s = f[at + 2 * i]!;
      if (s >= begin + duration && !(duration === 0 && s === begin)) break;
      const e = f[at + 2 * i + 1]!;
      if (e > begin) begin = e;
    }
    f[base + D_RESERVATIONS]!++;
    if (begin - ready > TOUCH_US) f[base + D_WAITED]!++;
    if (i < count) f[base + D_BACKFILLED]!++;
    if (duration > 0) {
      f[base + D_BUSY_US]! += duration;
      insert(f, base, i, begin, begin + duration);
    }
    unlock(this.i32, PORT_LOCK);
    return begin;
  }

  stats(): PortStats {
    lock(this.i32, PORT_LOCK);
    const out = { transmit: this.direction(PORT_TX), receive: this.direction(PORT_RX) };
    unlock(this.i32, PORT_LOCK);
    return out;
  }

  private direction(dir: PortDirection): PortDirectionStats {
    const f = this.f64;
    const base = DIR_AT + dir * DIR_WORDS;
    const count = f[base + D_COUNT]!;
    return {
      freeAt: count === 0 ? 0 : f[base + D_HEADER + 2 * (count - 1) + 1]!,
      reservations: f[base + D_RESERVATIONS]!,
      waited: f[base + D_WAITED]!,
      backfilled: f[base + D_BACKFILLED]!,
      merged: f[base + D_MERGED]!,
      busyUs: f[base + D_BUSY_US]!,
    };
  }
}

/** Insert [s, e) before interval i, coalescing with neighbours it touches (back-to-back streams stay one interval). */
function insert(f: Float64Array, base: number, i: number, s: number, e: number): void {
  const at = base + D_HEADER;
  let count = f[base + D_COUNT]!;
  const joinsPrev = i > 0 && s - f[at + 2 * (i - 1) + 1]! < TOUCH_US;
  const joinsNext = i < count && f[at + 2 * i]! - e < TOUCH_US;
  if (joinsPrev && joinsNext) {
    f[at + 2 * (i - 1) + 1] = f[at + 2 * i + 1]!;
    f.copyWithin(at + 2 * i, at + 2 * (i + 1), at + 2 * count);
    f[base + D_COUNT] = count - 1;
    return;
  }
  if (joinsPrev) {
    f[at + 2 * (i - 1) + 1] = Math.max(e, f[at + 2 * (i - 1) + 1]!);
    return;
  }
  if (joinsNext) {
    f[at + 2 * i] = s;
    return;
  }
  f.copyWithin(at + 2 * (i + 1), at + 2 * i, at + 2 * count);
  f[at + 2 * i] = s;
  f[at + 2 * i + 1] = e;
  count++;
  if (count > PORT_INTERVALS) {
    // Over capacity: merge the pair with the smallest gap (the earliest such pair on a tie).
    let best = 0;
    let bestGap = Infinity;
    for (let k = 0; k + 1 < count; k++) {
      const gap = f[at + 2 * (k + 1)]! - f[at + 2 * k + 1]!;
      if (gap < bestGap) {
        bestGap = gap;
        best = k;
      }
    }
    f[at + 2 * best + 1] = f[at + 2 * (best + 1) + 1]!;
    f.copyWithin(at + 2 * (best + 1), at + 2 * (best + 2), at + 2 * count);
    count--;
    f[base + D_MERGED]!++;
  }
  f[base + D_COUNT] = count;
}
