import { CompletionQueueOverrun, InvalidArgument } from '../errors.js';
import { lock, unlock } from '../shared/lock.js';
import {
  C_DEPTH, C_DOMAIN, C_DOORBELL, C_HEAD, C_LOCK, C_OVERRUN, C_RING, C_STATE, C_TAIL, C_WAITERS, C_HELD, CQ_STRIDE, CQE_BYTES,
  CQE_IMM, CQE_OPCODE, CQE_QPN, CQE_STATUS, CQE_TIME, CQE_WORDS, CQE_WRID,
} from '../shared/layout.js';
import type { AdapterState } from '../shared/state.js';
import { bumpError } from '../stats.js';
import type { Completion } from '../types.js';

/** What a producer pushes; immData -1 means none. */
export interface CompletionEntry {
  status: number;
  opcode: number;
  byteLength: number;
  wrId: number;
  qpNum: number;
  immData: number;
  time: number;
}

/**
 * Push a completion into CQ `cqId` of `state` from any thread. Producers serialise on the CQ's
 * lock; the owner consumes without it (single consumer: it only moves head). A full ring sets
 * the overrun flag (reported by the owner's next poll) instead of overwriting.
 */
export function pushCompletion(state: AdapterState, cqId: number, e: CompletionEntry): void {
  pushCompletionOf(state, cqId, e.status, e.opcode, e.byteLength, e.wrId, e.qpNum, e.immData, e.time);
}

/** pushCompletion with the entry's fields as arguments: the delivery of every send pushes two, and allocates none. */
export function pushCompletionOf(
  state: AdapterState, cqId: number, status: number, opcode: number, byteLength: number, wrId: number, qpNum: number, immData: number, time: number,
): void {
  const cqs = state.cqs;
  const row = cqId * CQ_STRIDE;
  const domain = cqs[row + C_DOMAIN]!;
  if (status !== 0) bumpError(state.counters, domain, status);
  lock(cqs, row + C_LOCK);
  const depth = cqs[row + C_DEPTH]!;
  const tail = cqs[row + C_TAIL]!;
  if (tail - Atomics.load(cqs, row + C_HEAD) >= depth) {
    Atomics.store(cqs, row + C_OVERRUN, 1);
    unlock(cqs, row + C_LOCK);
    ringDoorbell(cqs, row);
    return;
  }
  const at = cqs[row + C_RING]! + (tail % depth) * CQE_WORDS;
  const f = state.arena.f64;
  f[at + CQE_STATUS] = status;
  f[at + CQE_OPCODE] = opcode;
  f[at + CQE_BYTES] = byteLength;
  f[at + CQE_WRID] = wrId;
  f[at + CQE_QPN] = qpNum;
  f[at + CQE_IMM] = immData;
  f[at + CQE_TIME] = time;
  const wm = watermarkWord(cqs, row, depth);
  if (time < f[wm]!) f[wm] = time;
  // The entry is written before the tail store publishes it (Atomics are sequentially consistent).
  Atomics.store(cqs, row + C_TAIL, tail + 1);
  unlock(cqs, row + C_LOCK);
  ringDoorbell(cqs, row);
}

/*
 * The watermark: the earliest virtual time among the completions pushed and not yet retired by the
 * owner (plus sends parked on a receive queue that will complete here), in one Float64 word after
 * the ring. Producers lower it under C_LOCK; the owner raises it only in retire(), after it has
 * taken the polled completions into its own books, by rescanning what is still in the ring. So
 * every completion is, at every moment, either below the watermark or in the owner's hands: a
 * conservative scheduler (another thread deciding whether this CQ's owner can still act before
 * time t) reads the watermark and the owner's own published bound, never the ring.
 */
function watermarkWord(cqs: Int32Array, row: number, depth: number): number {
  return cqs[row + C_RING]! + depth * CQE_WORDS;
}

/** Lower CQ `cqId`'s watermark to `time` (a send parked for a receive that will complete here). */
export function lowerWatermark(state: AdapterState, cqId: number, time: number): void {
  const cqs = state.cqs;
  const row = cqId * CQ_STRIDE;
  lock(cqs, row + C_LOCK);
  const wm = watermarkWord(cqs, row, cqs[row + C_DEPTH]!);
  if (time < state.arena.f64[wm]!) state.arena.f64[wm] = time;
  unlock(cqs, row + C_LOCK);
}

/*
 * Held completions (the network wire, exact timing across processes). An operation shipped to
 * another node completes when its answer comes back, wall-clock later; in one process its
 * completion was pushed during the post. Until the answer is in, the CQ keeps its watermark at or
 * below `time` — the earliest the completion (or, for a read, the landing of its data on this
 * node's port) can be — so its owner's bound covers what is still on the way. The word after the
 * watermark keeps the smallest such time since the CQ last had nothing held (conservative: held
 * times are not kept one by one).
 */

/** An operation of CQ `cqId`'s owner left for another node: hold the watermark at or below `time` until its answer. */
export function holdCompletion(state: AdapterState, cqId: number, time: number): void {
  const cqs = state.cqs;
  const row = cqId * CQ_STRIDE;
  lock(cqs, row + C_LOCK);
  const wm = watermarkWord(cqs, row, cqs[row + C_DEPTH]!);
  const f = state.arena.f64;
  cqs[row + C_HELD]!++;
  if (time < f[wm + 1]!) f[wm + 1] = time;
  if (time < f[wm]!) f[wm] = time;
  unlock(cqs, row + C_LOCK);
}

/**
 * Its answer came back (and its completion, if any, is pushed): one hold less. The watermark itself
 * rises only when the owner retires; the doorbell tells it to look.
 */
export function releaseCompletion(state: AdapterState, cqId: number): void {
  const cqs = state.cqs;
  const row = cqId * CQ_STRIDE;
  if (Atomics.load(cqs, row + C_STATE) === 0) return; // destroyed meanwhile
  lock(cqs, row + C_LOCK);
  const wm = watermarkWord(cqs, row, cqs[row + C_DEPTH]!);
  if (cqs[row + C_HELD]! > 0 && --cqs[row + C_HELD]! === 0) state.arena.f64[wm + 1] = Infinity;
  unlock(cqs, row + C_LOCK);
  ringDoorbell(cqs, row);
}

/** The watermark of CQ `cqId` as any thread sees it (Infinity: nothing pending). */
export function readWatermark(state: AdapterState, cqId: number): number {
  const cqs = state.cqs;
  const row = cqId * CQ_STRIDE;
  return state.arena.f64[watermarkWord(cqs, row, cqs[row + C_DEPTH]!)]!;
}

/*
 * Waking the owner without a futex syscall per push (Atomics.notify costs a few µs even with no
 * one asleep, tens of µs when it must wake a thread). The owner announces itself in C_WAITERS
 * before it sleeps; a push notifies only when it sees an announcement. All four steps are
 * sequentially consistent Atomics, so they fall in one total order:
 *
 *     owner (wait)                          producer (push)
 *     W1 add(WAITERS, +1)                   P1 add(DOORBELL, +1)
 *     W2 Atomics.wait(DOORBELL, seen)       P2 if load(WAITERS) > 0: notify(DOORBELL)
 *        (compares, then sleeps, atomically
 *         with respect to notify)
 *     W3 add(WAITERS, -1)
 *
 * P2 before W1: then P1 (before P2) is before W2's compare, which sees DOORBELL ≠ seen and returns
 * at once ('not-equal'): no sleep, nothing to wake.
 * W1 before P2: P2 sees WAITERS > 0 and notifies. If W2 is already asleep it is woken; if W2 has
 * not compared yet, P1 precedes its compare and it does not sleep. Either way no push is lost.
 * A stale announcement (W3 not yet run) costs only a spurious notify.
 */
function ringDoorbell(cqs: Int32Array, row: number): void {
  Atomics.add(cqs, row + C_DOORBELL, 1);
  if (holding > 0) {
    const n = held;
    if (n === 0 || heldRows[n - 1] !== row || heldCqs[n - 1] !== cqs) {
      heldCqs[n] = cqs;
      heldRows[n] = row;
      held = n + 1;
    }
    return;
  }
  if (Atomics.load(cqs, row + C_WAITERS) !== 0) Atomics.notify(cqs, row + C_DOORBELL);
}

/*
 * Held wake-ups (this thread's pushes only): between holdDoorbells() and releaseDoorbells() a push
 * moves the doorbell at once but notifies its sleeping owner only at the release. Delaying P2 above
 * loses nothing (the argument does not depend on when P2 runs); it lets the producer finish what
 * the woken owner will need first — under exact timing, publishing its new virtual-time bound, so
 * the owner wakes once to an event it may run instead of waking, finding it held back, and sleeping
 * again. A spinning owner sees the doorbell move without waiting for the release.
 */
let holding = 0;
// The first `held` entries; the arrays only grow (emptying one with `length = 0` dropped its backing
// store, so every held push of every message allocated a new one).
let held = 0;
const heldCqs: Int32Array[] = [];
const heldRows: number[] = [];

/** Hold the wake-ups of this thread's pushes until the matching releaseDoorbells(); calls nest. */
export function holdDoorbells(): void {
  holding++;
}

/**
 * End the outermost hold: later pushes notify at once again. The wake-ups held so far are notified
 * now, or with `notify` false kept until the next flushDoorbells() — for a producer whose pushes
 * are of no use to their owners until it has done something more (exact timing: until its bound has
 * moved past them), so an owner woken earlier would only go back to sleep.
 */
export function releaseDoorbells(notify = true): void {
  if (--holding > 0) return;
  if (notify) flushDoorbells();
}

/**
 * Notify now what is held so far, still holding what comes next: a thread about to sleep inside a
 * hold (a send that waits for a free slot) must not leave a peer asleep that it may be waiting for.
 */
export function flushDoorbells(): void {
  const n = held;
  held = 0;
  for (let i = 0; i < n; i++) {
    const cqs = heldCqs[i]!;
    const row = heldRows[i]!;
    if (Atomics.load(cqs, row + C_WAITERS) !== 0) Atomics.notify(cqs, row + C_DOORBELL);
  }
}

/** A completion queue; poll and wait on its owner's thread, pushes come from any thread. */
export class CompletionQueue {
  readonly id: number;
  readonly depth: number;
  private readonly state: AdapterState;
  private readonly row: number;

  /** @internal created by ProtectionDomain.createCompletionQueue */
  constructor(state: AdapterState, id: number) {
    this.state = state;
    this.id = id;
    this.row = id * CQ_STRIDE;
    this.depth = state.cqs[this.row + C_DEPTH]!;
  }

  /** @internal */
  static create(state: AdapterState, domainId: number, depth: number): CompletionQueue {
    if (!Number.isInteger(depth) || depth < 1 || depth > 1 << 24) {
      throw new InvalidArgument(`createCompletionQueue: depth must be an integer in [1, 2^24], got ${depth}`);
    }
    const id = state.claimRow(state.cqs, CQ_STRIDE, state.limits.maxCompletionQueues, 1, undefined,
      'completion-queue', 'maxCompletionQueues');
    const row = id * CQ_STRIDE;
    try {
      const ring = state.arena.alloc((depth * CQE_WORDS + 2) * 8, 'a completion queue');
      state.cqs[row + C_RING] = ring;
      state.arena.f64[ring + depth * CQE_WORDS] = Infinity;
      state.arena.f64[ring + depth * CQE_WORDS + 1] = Infinity;
      state.cqs[row + C_HELD] = 0;
    } catch (e) {
      Atomics.store(state.cqs, row + C_STATE, 0);
      throw e;
    }
    state.cqs[row + C_DOMAIN] = domainId;
    state.cqs[row + C_DEPTH] = depth;
    state.cqs[row + C_HEAD] = 0;
    state.cqs[row + C_OVERRUN] = 0;
    state.cqs[row + C_WAITERS] = 0;
    Atomics.store(state.cqs, row + C_TAIL, 0);
    return new CompletionQueue(state, id);
  }

  /** Up to `max` completions in push order. Never touches a clock. */
  poll(max = 16): Completion[] {
    const out: Completion[] = [];
    out.length = this.pollInto(out, max);
    return out;
  }

  /**
   * poll() without allocating: up to `max` completions into `out[0..n)`, reusing the objects already
   * there (a completion read from `out` is valid until the next pollInto with it); returns n.
   */
  pollInto(out: Completion[], max = 16): number {
    const cqs = this.state.cqs;
    const row = this.row;
    if (Atomics.load(cqs, row + C_OVERRUN) !== 0) throw new CompletionQueueOverrun(this.id, this.depth);
    const head = cqs[row + C_HEAD]!;
    const tail = Atomics.load(cqs, row + C_TAIL);
    const n = Math.min(max, tail - head);
    const f = this.state.arena.f64;
    const ring = cqs[row + C_RING]!;
    for (let i = 0; i < n; i++) {
      const at = ring + ((head + i) % this.depth) * CQE_WORDS;
      const c = out[i] ?? (out[i] = { status: 0, opcode: 0, byteLength: 0, wrId: 0, qpNum: 0, immData: undefined, time: 0 });
      c.status = f[at + CQE_STATUS]!;
      c.opcode = f[at + CQE_OPCODE]!;
      c.byteLength = f[at + CQE_BYTES]!;
      c.wrId = f[at + CQE_WRID]!;
      c.qpNum = f[at + CQE_QPN]!;
      c.time = f[at + CQE_TIME]!;
      const imm = f[at + CQE_IMM]!;
      c.immData = imm >= 0 ? imm : undefined;
    }
    if (n > 0) Atomics.store(cqs, row + C_HEAD, head + n);
    return n;
  }

  /**
   * Owner: raise the watermark to the earliest completion still in the ring (Infinity when empty).
   * Call it only after the completions polled so far are accounted for elsewhere (see watermarkWord).
   */
  retire(): void {
    const cqs = this.state.cqs;
    const row = this.row;
    const f = this.state.arena.f64;
    const ring = cqs[row + C_RING]!;
    lock(cqs, row + C_LOCK);
    const head = cqs[row + C_HEAD]!;
    const tail = cqs[row + C_TAIL]!;
    let min = f[ring + this.depth * CQE_WORDS + 1]!; // what is held (see holdCompletion)
    for (let i = head; i < tail; i++) {
      const t = f[ring + (i % this.depth) * CQE_WORDS + CQE_TIME]!;
      if (t < min) min = t;
    }
    f[ring + this.depth * CQE_WORDS] = min;
    unlock(cqs, row + C_LOCK);
  }

  /** The earliest virtual time among completions not yet retired (Infinity: none). */
  get watermark(): number {
    return readWatermark(this.state, this.id);
  }

  /** Completions waiting to be polled. */
  get pending(): number {
    return Atomics.load(this.state.cqs, this.row + C_TAIL) - Atomics.load(this.state.cqs, this.row + C_HEAD);
  }

  /** Push counter; read it before poll() and pass it to wait() so no push is missed. */
  get doorbell(): number {
    return Atomics.load(this.state.cqs, this.row + C_DOORBELL);
  }

  /** Block (Atomics.wait) until the doorbell differs from `seen`; false when `timeoutMs` passed first. */
  wait(seen: number, timeoutMs: number): boolean {
    const cqs = this.state.cqs;
    // The futex pattern of ringDoorbell: announce, then compare-and-sleep, then withdraw.
    Atomics.add(cqs, this.row + C_WAITERS, 1);
    const r = Atomics.wait(cqs, this.row + C_DOORBELL, seen, timeoutMs);
    Atomics.sub(cqs, this.row + C_WAITERS, 1);
    return r !== 'timed-out';
  }

  /** @internal */
  destroy(): void {
    const cqs = this.state.cqs;
    this.state.arena.free(cqs[this.row + C_RING]!, (this.depth * CQE_WORDS + 2) * 8);
    Atomics.store(cqs, this.row + C_STATE, 0);
  }
}
