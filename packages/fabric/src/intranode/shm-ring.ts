import type { AddressSpace } from '@tsmpi/vm';
import type { VirtualClock } from '../clock.js';
import type { CostModel } from '../cost/model.js';
import { InvalidArgument } from '../errors.js';
import { LOCK, P_BELL, P_MARK_LOCK, PROC_STRIDE, type NodeState } from './node-state.js';
import { lock, unlock } from '../shared/lock.js';
import { shmCopyUs } from './pricing.js';
import type { IntranodeStats } from './types.js';

/*
 * One single-producer / single-consumer ring per ordered pair of processes, in the node's shared
 * arena: the shm transport's bounce buffers. The sender copies a chunk in from its address space,
 * the receiver copies it out into its own: two copies, pipelined chunk by chunk.
 *
 *   word 0          Int32 HEAD (chunks written, producer only), Int32 TAIL (chunks read, consumer only)
 *   words 1 ..      per slot, Float64: LEN (bytes in the chunk), READY (virtual µs the chunk is
 *                   visible to the receiver), FREED (virtual µs the receiver emptied the slot)
 *   then            slots × chunkBytes of data
 *
 * HEAD is published with Atomics.store after the slot is written, TAIL after it is read, so each
 * side sees a whole chunk or none. Virtual time: a sender that laps the ring waits (in virtual
 * time) for the slot's FREED; a receiver starts a chunk no earlier than its READY.
 *
 * The watermark (exact virtual time, as the completion queue's): per receiving process, the
 * earliest READY among the chunks pushed into its rings and not yet retired by it. A sender lowers
 * it under the receiver's MARK_LOCK in the same critical section as the HEAD store that publishes
 * the chunk; the receiver raises it only in retireRingMark(), after it has taken what it popped
 * into its own books, by rescanning what is still in its rings under that lock. So every chunk is,
 * at every moment, either below the watermark or in the receiver's hands, and a conservative
 * scheduler on another thread reads the watermark, never the rings.
 */
const HEAD = 0;
const TAIL = 1;
const S_LEN = 0;
const S_READY = 1;
const S_FREED = 2;
const SLOT_WORDS = 3;

export function ringBytes(slots: number, chunkBytes: number): number {
  return 8 + slots * SLOT_WORDS * 8 + slots * chunkBytes;
}

/** The ring from `from` to `to`, created on first use. */
export class ShmRing {
  private readonly node: NodeState;
  private readonly word: number;
  private readonly slots: number;
  private readonly chunk: number;
  private readonly dataAt: number;
  private readonly from: number;
  private readonly to: number;

  constructor(node: NodeState, from: number, to: number) {
    const { maxProcesses, ringSlots, chunkBytes } = node.limits;
    if (!(from >= 0 && from < maxProcesses && to >= 0 && to < maxProcesses)) {
      throw new InvalidArgument(`shm ring ${from} → ${to}: process ids must be in 0..${maxProcesses - 1}`);
    }
    this.node = node;
    this.from = from;
    this.to = to;
    this.slots = ringSlots;
    this.chunk = chunkBytes;
    const cell = from * maxProcesses + to;
    let w = Atomics.load(node.rings, cell) - 1;
    if (w < 0) w = createRing(node, cell, ringSlots, chunkBytes);
    this.word = w;
    this.dataAt = (w + 1 + ringSlots * SLOT_WORDS) * 8;
  }

  /** Chunks written and not yet read. */
  get pending(): number {
    const i32 = this.node.arena.i32;
    return Atomics.load(i32, this.word * 2 + HEAD) - Atomics.load(i32, this.word * 2 + TAIL);
  }

  /**
   * Copy in up to `length` bytes from [addr, addr + length) of the sender's space, one chunk per
   * free slot; returns the bytes written (less than `length` when the ring filled up: call again
   * after the receiver made room). `messageBytes` prices the copies (the cache rule).
   */
  push(space: AddressSpace, addr: number, length: number, clock: VirtualClock, cost: CostModel, messageBytes: number, stats: IntranodeStats): number {
    // the sender's copy-in reads its own pages (faulting them in; a bad buffer throws here)
    const frames = space.memory.bytes;
    return this.pushFrom((pos, n, into, at) => {
      // straight from the sender's frames into the slot: one copy, through its page table
      for (const r of space.runs(addr + pos, n, 'read')) {
        into.set(frames.subarray(r.offset, r.offset + r.length), at);
        at += r.length;
      }
    }, length, clock, cost, messageBytes, stats);
  }

  /** push() from bytes the caller holds (a message header, a serialised object). */
  pushFrom(src: (pos: number, n: number, into: Uint8Array, at: number) => void, length: number, clock: VirtualClock, cost: CostModel, messageBytes: number, stats: IntranodeStats): number {
    const i32 = this.node.arena.i32;
    const f64 = this.node.arena.f64;
    const bytes = this.node.arenaBytes;
    let done = 0;
    let head = Atomics.load(i32, this.word * 2 + HEAD);
    while (done < length) {
      const tail = Atomics.load(i32, this.word * 2 + TAIL);
      if (head - tail >= this.slots) break;
      const slot = head % this.slots;
      const n = Math.min(this.chunk, length - done);
      const meta = this.word + 1 + slot * SLOT_WORDS;
      src(done, n, bytes, this.dataAt + slot * this.chunk);
      // full in virtual time: the receiver empties this slot only later than the sender reaches it
      // (whether the thread found the ring full is the host's business, not the simulated machine's)
      if (f64[meta + S_FREED]! > clock.now) stats.shmRingFull++;
      clock.advanceTo(f64[meta + S_FREED]!);
      clock.advance(shmCopyUs(cost, messageBytes, n));
      f64[meta + S_LEN] = n;
      const ready = clock.now + cost.shmLatencyUs;
      f64[meta + S_READY] = ready;
      const cell = this.to * PROC_STRIDE + P_MARK_LOCK;
      lock(this.node.procs, cell);
      if (ready < this.node.marks[this.to]!) this.node.marks[this.to] = ready;
      Atomics.store(i32, this.word * 2 + HEAD, ++head);
      unlock(this.node.procs, cell);
      done += n;
      stats.shmChunks++;
    }
    stats.shmSendBytes += done;
    if (done > 0) this.ring(this.to);
    return done;
  }

  /**
   * Copy out whole chunks into [addr, addr + length) of the receiver's space while they are there
   * and fit; returns the bytes read. A chunk longer than what is left means the caller asked for
   * less than the sender sent: InvalidArgument (the message boundary is the caller's to keep).
   */
  pop(space: AddressSpace, addr: number, length: number, clock: VirtualClock, cost: CostModel, messageBytes: number, stats: IntranodeStats): number {
    const frames = space.memory.bytes;
    return this.popInto((pos, data) => {
      let from = 0;
      for (const r of space.runs(addr + pos, data.length, 'write')) {
        frames.set(data.subarray(from, from + r.length), r.offset);
        from += r.length;
      }
    }, length, clock, cost, messageBytes, stats);
  }

  /** pop() handing each chunk to `dst` (bytes valid only during the call). */
  popInto(dst: (pos: number, data: Uint8Array) => void, length: number, clock: VirtualClock, cost: CostModel, messageBytes: number, stats: IntranodeStats): number {
    const i32 = this.node.arena.i32;
    const f64 = this.node.arena.f64;
    const bytes = this.node.arenaBytes;
    let done = 0;
    let tail = Atomics.load(i32, this.word * 2 + TAIL);
    while (done < length && Atomics.load(i32, this.word * 2 + HEAD) > tail) {
      const slot = tail % this.slots;
      const meta = this.word + 1 + slot * SLOT_WORDS;
      const n = f64[meta + S_LEN]!;
      if (n > length - done) {
        throw new InvalidArgument(`shm receive: the next chunk holds ${n} bytes but only ${length - done} are left to read; read whole messages`);
      }
      const at = this.dataAt + slot * this.chunk;
      dst(done, bytes.subarray(at, at + n));
      clock.advanceTo(f64[meta + S_READY]!);
      clock.advance(shmCopyUs(cost, messageBytes, n));
      f64[meta + S_FREED] = clock.now;
      Atomics.store(i32, this.word * 2 + TAIL, ++tail);
      done += n;
    }
    stats.shmRecvBytes += done;
    if (done > 0) this.ring(this.from);
    return done;
  }

  /** Wake `pid` if it sleeps on its doorbell (a sender waiting for room, a receiver waiting for data). */
  private ring(pid: number): void {
    const at = pid * PROC_STRIDE + P_BELL;
    Atomics.add(this.node.procs, at, 1);
    Atomics.notify(this.node.procs, at);
  }
}

/** The watermark of the rings into process `pid` (Infinity: nothing pushed and not retired). */
export function readRingMark(node: NodeState, pid: number): number {
  return node.marks[pid]!;
}

/**
 * Process `pid`, the rings' consumer: raise its watermark to the earliest READY still in its rings.
 * Call it only after the chunks popped so far are accounted for elsewhere (see the header comment).
 */
export function retireRingMark(node: NodeState, pid: number): void {
  const max = node.limits.maxProcesses;
  const slots = node.limits.ringSlots;
  const i32 = node.arena.i32;
  const f64 = node.arena.f64;
  const cell = pid * PROC_STRIDE + P_MARK_LOCK;
  lock(node.procs, cell);
  let min = Infinity;
  for (let from = 0; from < max; from++) {
    const w = Atomics.load(node.rings, from * max + pid) - 1;
    if (w < 0) continue;
    const head = i32[w * 2 + HEAD]!;
    for (let i = i32[w * 2 + TAIL]!; i < head; i++) {
      const ready = f64[w + 1 + (i % slots) * SLOT_WORDS + S_READY]!;
      if (ready < min) min = ready;
    }
  }
  node.marks[pid] = min;
  unlock(node.procs, cell);
}

function createRing(node: NodeState, cell: number, slots: number, chunk: number): number {
  // lazily, under the table lock: the first of the two sides to use the ring creates it
  lock(node.header, LOCK);
  try {
    const existing = node.rings[cell]! - 1;
    if (existing >= 0) return existing;
    const w = node.arena.alloc(ringBytes(slots, chunk), 'shm ring');
    node.arena.i32.fill(0, w * 2, w * 2 + 2);
    node.arena.f64.fill(0, w + 1, w + 1 + slots * SLOT_WORDS);
    Atomics.store(node.rings, cell, w + 1);
    return w;
  } finally {
    unlock(node.header, LOCK);
  }
}
