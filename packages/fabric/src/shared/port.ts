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
const D_SMALL_N = 6; // entries in the smallest-gaps list below (0: empty or invalid, rebuilt by a scan)
const D_SMALL = 7; // SMALL_GAPS × (gap, index): the smallest gaps, by (gap, index) ascending
/** How many of the smallest gaps are remembered between overflows (a full scan refills them). */
const SMALL_GAPS = 16;
const D_HEADER = D_SMALL + 2 * SMALL_GAPS;
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

  get stats(): PortStats {
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

/*
 * The smallest-gaps list. A full calendar merges its closest pair on every reservation that adds an
 * interval; scanning all PORT_INTERVALS gaps for it each time cost more than the rest of a post.
 * The list keeps the SMALL_GAPS smallest gaps (gap k lies between intervals k and k + 1) ordered
 * by (gap, index), with the invariant: every gap not in the list orders after the list's last entry.
 * Then its head is exactly the pair the scan would pick (smallest gap, earliest on a tie).
 * - Appending an interval at the end adds one gap with the largest index: it enters the list only
 *   if strictly smaller than the last entry (an equal gap with a larger index orders after it).
 *   A full list drops its last entry, which keeps the invariant.
 * - Merging pair k removes gap k; gaps after it move down one index, their values unchanged (the
 *   merged interval keeps the first's start and the second's end).
 * - Any other change (an insertion before the end, a coalescing with the next interval) empties
 *   the list; an empty list is refilled by a full scan when a merge needs it.
 */

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
    f[base + D_SMALL_N] = 0;
    return;
  }
  if (joinsPrev) {
    // Only the last interval's end moves when i === count: no gap changes.
    if (i < count) f[base + D_SMALL_N] = 0;
    f[at + 2 * (i - 1) + 1] = Math.max(e, f[at + 2 * (i - 1) + 1]!);
    return;
  }
  if (joinsNext) {
    f[base + D_SMALL_N] = 0;
    f[at + 2 * i] = s;
    return;
  }
  if (i < count) {
    f[base + D_SMALL_N] = 0;
    f.copyWithin(at + 2 * (i + 1), at + 2 * i, at + 2 * count);
  } else if (count > 0 && f[base + D_SMALL_N]! > 0) {
    noteGap(f, base, s - f[at + 2 * (count - 1) + 1]!, count - 1);
  }
  f[at + 2 * i] = s;
  f[at + 2 * i + 1] = e;
  count++;
  if (count > PORT_INTERVALS) {
    // Over capacity: merge the pair with the smallest gap (the earliest such pair on a tie).
    if (f[base + D_SMALL_N]! === 0) scanGaps(f, base, count);
    const best = takeSmallest(f, base);
    f[at + 2 * best + 1] = f[at + 2 * (best + 1) + 1]!;
    f.copyWithin(at + 2 * (best + 1), at + 2 * (best + 2), at + 2 * count);
    count--;
    f[base + D_MERGED]!++;
  }
  f[base + D_COUNT] = count;
}

/** A new last gap (largest index): into the list if it orders before the list's last entry. */
function noteGap(f: Float64Array, base: number, gap: number, index: number): void {
  const n = f[base + D_SMALL_N]!;
  const list = base + D_SMALL;
  if (n === SMALL_GAPS && !(gap < f[list + 2 * (n - 1)]!)) return;
  if (n < SMALL_GAPS && !(gap < f[list + 2 * (n - 1)]!)) {
    // Not smaller than every listed gap's tail: the unlisted gaps may hold smaller ones, so it
    // cannot be appended without breaking the invariant; it simply stays unlisted.
    return;
  }
  let k = n === SMALL_GAPS ? n - 1 : n;
  while (k > 0 && gap < f[list + 2 * (k - 1)]!) {
    f[list + 2 * k] = f[list + 2 * (k - 1)]!;
    f[list + 2 * k + 1] = f[list + 2 * (k - 1) + 1]!;
    k--;
  }
  f[list + 2 * k] = gap;
  f[list + 2 * k + 1] = index;
  if (n < SMALL_GAPS) f[base + D_SMALL_N] = n + 1;
}

/** Refill the list with the SMALL_GAPS smallest of the calendar's count - 1 gaps. */
function scanGaps(f: Float64Array, base: number, count: number): void {
  const at = base + D_HEADER;
  const list = base + D_SMALL;
  let n = 0;
  let prevEnd = f[at + 1]!;
  for (let g = 0, p = at + 2; g + 1 < count; g++, p += 2) {
    const gap = f[p]! - prevEnd;
    prevEnd = f[p + 1]!;
    // Gaps arrive in index order, so an equal gap orders after the listed ones.
    if (n === SMALL_GAPS && !(gap < f[list + 2 * (n - 1)]!)) continue;
    let k = n === SMALL_GAPS ? n - 1 : n;
    while (k > 0 && gap < f[list + 2 * (k - 1)]!) {
      f[list + 2 * k] = f[list + 2 * (k - 1)]!;
      f[list + 2 * k + 1] = f[list + 2 * (k - 1) + 1]!;
      k--;
    }
    f[list + 2 * k] = gap;
    f[list + 2 * k + 1] = g;
    if (n < SMALL_GAPS) n++;
  }
  f[base + D_SMALL_N] = n;
}

/** Pop the list's head (the pair to merge); the gaps after it move down one index. */
function takeSmallest(f: Float64Array, base: number): number {
  const list = base + D_SMALL;
  const n = f[base + D_SMALL_N]!;
  const best = f[list + 1]!;
  for (let k = 1; k < n; k++) {
    f[list + 2 * (k - 1)] = f[list + 2 * k]!;
    const index = f[list + 2 * k + 1]!;
    f[list + 2 * (k - 1) + 1] = index > best ? index - 1 : index;
  }
  f[base + D_SMALL_N] = n - 1;
  return best;
}
