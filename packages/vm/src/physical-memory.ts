import { InvalidArgument, OutOfMemory, VmError } from './errors.js';
import { lockMutex, unlockMutex } from './mutex.js';
import { MAX_PTE_INDEX } from './pte.js';

/** Structured-cloneable; send it to a worker in workerData and re-open with PhysicalMemory.attach. */
export interface PhysicalMemoryHandle {
  kind: 'physical-memory';
  frames: SharedArrayBuffer;
  meta: SharedArrayBuffer;
  swap: SharedArrayBuffer;
  pageSize: number;
  frameCount: number;
  swapSlots: number;
}

export interface PhysicalMemoryStats {
  frames: number;
  free: number;
  /** frames with at least one mapping */
  mapped: number;
  /** frames with at least one pin */
  pinned: number;
  /** swap slots in use */
  swapped: number;
  swapSlots: number;
  allocs: number;
  frees: number;
  swapOuts: number;
  swapIns: number;
}

/*
 * meta (Int32Array) layout; every cell is shared by all threads of the node:
 *   [0 .. HEADER)                      counters and the two allocator locks (indices below)
 *   freeQueue[frameCount]              ring of free frames from FREE_HEAD, QUEUED long; guarded by FRAME_LOCK.
 *                                      FIFO on purpose: a freed frame goes to the back, so memory
 *                                      unmapped and mapped again lands on other frames (as the
 *                                      seeds' stale-registration story needs) unless the node is full
 *   refs[frameCount]                   mapCount + pinCount; the frame is freed when it drops to 0
 *   maps[frameCount], pins[frameCount] the two halves, kept for stats and for refusing migration
 *   slotStack[swapSlots]               free swap slots; [0, SWAP_TOP) valid; guarded by SWAP_LOCK
 *   runs[RUN_SLOTS * 2]                per-thread reserved runs [next, end); guarded by FRAME_LOCK (frame-runs below)
 * refs is the only count whose transition to 0 frees, so a racing unmap and unpin cannot both
 * (or neither) free the frame.
 *
 * Frame runs (what a buddy allocator and Linux's per-CPU page lists give a faulting CPU): each thread
 * that allocates claims a run slot, and refills it with the longest physically consecutive stretch at
 * the head of the free queue, up to RUN_BYTES and a quarter of the queue. Its next faults take frames
 * from that run in order, so a buffer a rank touches page by page lands on a few long physical runs
 * even while other ranks fault at the same moment (one shared FIFO handed them out alternately: 65-250
 * pieces per MiB). Reserved frames still count as free; when the queue is empty an allocation takes
 * the next frame of any thread's run, so a node runs out of memory exactly when it did before.
 */
const FRAME_LOCK = 0;
const FREE_COUNT = 1;
const MAPPED = 2;
const PINNED = 3;
const ALLOCS = 4;
const FREES = 5;
const SWAP_LOCK = 6;
const SWAP_TOP = 7;
const SWAP_OUTS = 8;
const SWAP_INS = 9;
const FREE_HEAD = 10;
/** Frames in the free queue (FREE_COUNT also counts the frames reserved in runs). */
const QUEUED = 11;
/** Run slots claimed so far (a thread past RUN_SLOTS allocates from the queue directly). */
const RUN_SLOTS_CLAIMED = 12;
const HEADER = 16;
/** Threads that can hold a run; more than a node's ranks plus its fabric and network threads. */
const RUN_SLOTS = 256;
/** A run is at most a huge page: the buddy allocator's order-9 block on 4 KiB pages. */
const RUN_BYTES = 2 * 1024 * 1024;

/**
 * A node's physical memory: page frames in one SharedArrayBuffer, a frame allocator safe for
 * every thread of the node, per-frame map and pin counts, and the node's swap area.
 */
export class PhysicalMemory {
  readonly handle: PhysicalMemoryHandle;
  readonly pageSize: number;
  readonly frameCount: number;
  readonly swapSlots: number;
  /** All frames; frame f occupies [f * pageSize, (f + 1) * pageSize). */
  readonly bytes: Uint8Array;
  /** The same bytes as Int32 words (zero checks). */
  private readonly words: Int32Array;
  /** The swap area; slot s occupies [s * pageSize, (s + 1) * pageSize). */
  readonly swapBytes: Uint8Array;
  private readonly meta: Int32Array;
  private readonly freeQueue: Int32Array;
  private readonly refs: Int32Array;
  private readonly maps: Int32Array;
  private readonly pins: Int32Array;
  private readonly slotStack: Int32Array;
  /** [next, end) of each thread's reserved run (see frame runs above). */
  private readonly runs: Int32Array;
  /** This thread's run slot: -1 not claimed yet, -2 none left. */
  private runSlot = -1;
  private readonly runFrames: number;

  constructor(opts: { bytes?: number; pageSize?: number; swapBytes?: number } = {}, handle?: PhysicalMemoryHandle) {
    const fresh = handle === undefined;
    if (handle === undefined) {
      const pageSize = opts.pageSize ?? 4096;
      const bytes = opts.bytes ?? 256 * 1024 * 1024;
      if (!Number.isInteger(pageSize) || pageSize < 256 || (pageSize & (pageSize - 1)) !== 0) {
        throw new InvalidArgument(`pageSize must be a power of two >= 256, got ${pageSize}`);
      }
      if (!Number.isInteger(bytes) || bytes < pageSize || bytes % pageSize !== 0) {
        throw new InvalidArgument(`bytes must be a positive multiple of pageSize (${pageSize}), got ${bytes}`);
      }
      const swapBytes = opts.swapBytes ?? Math.floor(bytes / 4 / pageSize) * pageSize;
      if (!Number.isInteger(swapBytes) || swapBytes < 0 || swapBytes % pageSize !== 0) {
        throw new InvalidArgument(`swapBytes must be a non-negative multiple of pageSize (${pageSize}), got ${swapBytes}`);
      }
      const frameCount = bytes / pageSize;
      const swapSlots = swapBytes / pageSize;
      if (frameCount > MAX_PTE_INDEX || swapSlots > MAX_PTE_INDEX) {
        throw new InvalidArgument(`at most ${MAX_PTE_INDEX} frames and swap slots; use a larger pageSize`);
      }
      handle = {
        kind: 'physical-memory',
        frames: new SharedArrayBuffer(bytes),
        meta: new SharedArrayBuffer((HEADER + 4 * frameCount + swapSlots + 2 * RUN_SLOTS) * 4),
        swap: new SharedArrayBuffer(swapBytes),
        pageSize,
        frameCount,
        swapSlots,
      };
    }
    this.handle = handle;
    this.pageSize = handle.pageSize;
    this.frameCount = handle.frameCount;
    this.swapSlots = handle.swapSlots;
    this.bytes = new Uint8Array(handle.frames);
    this.words = new Int32Array(handle.frames);
    this.swapBytes = new Uint8Array(handle.swap);
    const n = this.frameCount;
    this.meta = new Int32Array(handle.meta, 0, HEADER);
    this.freeQueue = new Int32Array(handle.meta, HEADER * 4, n);
    this.refs = new Int32Array(handle.meta, (HEADER + n) * 4, n);
    this.maps = new Int32Array(handle.meta, (HEADER + 2 * n) * 4, n);
    this.pins = new Int32Array(handle.meta, (HEADER + 3 * n) * 4, n);
    this.slotStack = new Int32Array(handle.meta, (HEADER + 4 * n) * 4, this.swapSlots);
    this.runs = new Int32Array(handle.meta, (HEADER + 4 * n + this.swapSlots) * 4, 2 * RUN_SLOTS);
    this.runFrames = Math.max(1, RUN_BYTES / this.pageSize);
    if (fresh) {
      // fresh consecutive allocations are physically contiguous
      for (let i = 0; i < n; i++) this.freeQueue[i] = i;
      for (let i = 0; i < this.swapSlots; i++) this.slotStack[i] = this.swapSlots - 1 - i;
      Atomics.store(this.meta, FREE_COUNT, n);
      Atomics.store(this.meta, QUEUED, n);
      Atomics.store(this.meta, SWAP_TOP, this.swapSlots);
    }
  }

  /** Re-open a node's memory in another thread. */
  static attach(handle: PhysicalMemoryHandle): PhysicalMemory {
    if (handle?.kind !== 'physical-memory') throw new InvalidArgument('PhysicalMemory.attach: not a physical-memory handle');
    return new PhysicalMemory({}, handle);
  }

  /** A zeroed frame holding one map reference. Throws OutOfMemory when none is free. */
  allocFrame(): number {
    const meta = this.meta;
    lockMutex(meta, FRAME_LOCK);
    const count = meta[FREE_COUNT]!;
    if (count === 0) {
      unlockMutex(meta, FRAME_LOCK);
      throw new OutOfMemory(
        `node out of physical memory: all ${this.frameCount} frames of ${this.pageSize} bytes are in use. ` +
          `Create PhysicalMemory with more bytes, free memory, or reclaim() to swap.`,
      );
    }
    const f = this.takeFrame();
    Atomics.store(meta, FREE_COUNT, count - 1);
    unlockMutex(meta, FRAME_LOCK);
    if (Atomics.compareExchange(this.refs, f, 0, 1) !== 0) {
      throw new VmError('EINVAL', `frame allocator corrupted: free frame ${f} has references`);
    }
    Atomics.store(this.maps, f, 1);
    Atomics.add(meta, MAPPED, 1);
    Atomics.add(meta, ALLOCS, 1);
    this.zeroFrame(f);
    return f;
  }

  /**
   * Zero frame f, writing only if it is not zero already: a frame never used since the node started
   * is, and writing it would make the host commit a page that nobody touched (a rank's pinned bounce
   * slab is mostly such pages). Reading an untouched page of the SharedArrayBuffer commits nothing.
   */
  private zeroFrame(f: number): void {
    const words = this.pageSize >> 2;
    const from = f * words;
    for (let i = from; i < from + words; i++) {
      if (this.words[i] !== 0) {
        this.bytes.fill(0, f * this.pageSize, (f + 1) * this.pageSize);
        return;
      }
    }
  }

  /** Take one more map reference on a live frame. */
  getFrame(f: number): void {
    this.checkLive(f, 'getFrame');
    Atomics.add(this.refs, f, 1);
    if (Atomics.add(this.maps, f, 1) === 0) Atomics.add(this.meta, MAPPED, 1);
  }

  /** Drop one map reference; the frame is freed when no mapping and no pin hold it. */
  putFrame(f: number): void {
    const m = Atomics.sub(this.maps, f, 1);
    if (m <= 0) {
      Atomics.add(this.maps, f, 1);
      throw new VmError('EINVAL', `putFrame(${f}): frame has no mapping reference (double put)`);
    }
    if (m === 1) Atomics.sub(this.meta, MAPPED, 1);
    this.dropRef(f);
  }

  /** Take a pin reference: the frame stays allocated (and must not move) until unpinFrame. */
  pinFrame(f: number): void {
    this.checkLive(f, 'pinFrame');
    Atomics.add(this.refs, f, 1);
    if (Atomics.add(this.pins, f, 1) === 0) Atomics.add(this.meta, PINNED, 1);
  }

  /**
   * Pin a frame that another thread may be freeing right now: succeeds only while the frame still
   * has a reference. A reader in another thread pins what it translated, then checks readRetry
   * (see mmu-notifier.ts); if the frame was freed first this returns false.
   */
  tryPinFrame(f: number): boolean {
    if (!(f >= 0 && f < this.frameCount)) return false;
    for (;;) {
      const r = Atomics.load(this.refs, f);
      if (r <= 0) return false;
      if (Atomics.compareExchange(this.refs, f, r, r + 1) === r) break;
    }
    if (Atomics.add(this.pins, f, 1) === 0) Atomics.add(this.meta, PINNED, 1);
    return true;
  }

  unpinFrame(f: number): void {
    const p = Atomics.sub(this.pins, f, 1);
    if (p <= 0) {
      Atomics.add(this.pins, f, 1);
      throw new InvalidArgument(`unpin of frame ${f}, which is not pinned (double unpin?)`);
    }
    if (p === 1) Atomics.sub(this.meta, PINNED, 1);
    this.dropRef(f);
  }

  mapCount(f: number): number {
    return Atomics.load(this.maps, f);
  }

  pinCount(f: number): number {
    return Atomics.load(this.pins, f);
  }

  /** Total references (maps + pins); 0 means the frame is free. */
  refCount(f: number): number {
    return Atomics.load(this.refs, f);
  }

  /** A free swap slot, or -1 when the swap area is full. */
  allocSwapSlot(): number {
    const meta = this.meta;
    lockMutex(meta, SWAP_LOCK);
    const top = meta[SWAP_TOP]!;
    if (top === 0) {
      unlockMutex(meta, SWAP_LOCK);
      return -1;
    }
    const s = this.slotStack[top - 1]!;
    Atomics.store(meta, SWAP_TOP, top - 1);
    unlockMutex(meta, SWAP_LOCK);
    return s;
  }

  freeSwapSlot(s: number): void {
    const meta = this.meta;
    lockMutex(meta, SWAP_LOCK);
    const top = meta[SWAP_TOP]!;
    this.slotStack[top] = s;
    Atomics.store(meta, SWAP_TOP, top + 1);
    unlockMutex(meta, SWAP_LOCK);
  }

  /** Copy a frame's contents into a swap slot. */
  swapOut(f: number, slot: number): void {
    const ps = this.pageSize;
    this.swapBytes.set(this.bytes.subarray(f * ps, (f + 1) * ps), slot * ps);
    Atomics.add(this.meta, SWAP_OUTS, 1);
  }

  /** Copy a swap slot's contents into a frame. */
  swapIn(slot: number, f: number): void {
    const ps = this.pageSize;
    this.bytes.set(this.swapBytes.subarray(slot * ps, (slot + 1) * ps), f * ps);
    Atomics.add(this.meta, SWAP_INS, 1);
  }

  get stats(): PhysicalMemoryStats {
    const m = this.meta;
    return {
      frames: this.frameCount,
      free: Atomics.load(m, FREE_COUNT),
      mapped: Atomics.load(m, MAPPED),
      pinned: Atomics.load(m, PINNED),
      swapped: this.swapSlots - Atomics.load(m, SWAP_TOP),
      swapSlots: this.swapSlots,
      allocs: Atomics.load(m, ALLOCS),
      frees: Atomics.load(m, FREES),
      swapOuts: Atomics.load(m, SWAP_OUTS),
      swapIns: Atomics.load(m, SWAP_INS),
    };
  }

  private checkLive(f: number, what: string): void {
    if (!(f >= 0 && f < this.frameCount) || Atomics.load(this.refs, f) <= 0) {
      throw new InvalidArgument(`${what}(${f}): not a live frame of this node (0..${this.frameCount - 1})`);
    }
  }

  private dropRef(f: number): void {
    if (Atomics.sub(this.refs, f, 1) !== 1) return;
    const meta = this.meta;
    lockMutex(meta, FRAME_LOCK);
    const queued = meta[QUEUED]!;
    this.freeQueue[(meta[FREE_HEAD]! + queued) % this.frameCount] = f;
    Atomics.store(meta, QUEUED, queued + 1);
    Atomics.store(meta, FREE_COUNT, meta[FREE_COUNT]! + 1);
    unlockMutex(meta, FRAME_LOCK);
    Atomics.add(meta, FREES, 1);
  }

  /**
   * A free frame, with FRAME_LOCK held and FREE_COUNT > 0: the next of this thread's run; else the
   * first of a new run cut from the queue's head; else (queue empty) the next of another thread's run.
   */
  private takeFrame(): number {
    const runs = this.runs;
    const slot = this.claimRunSlot();
    if (slot >= 0) {
      const next = runs[2 * slot]!;
      if (next < runs[2 * slot + 1]!) {
        runs[2 * slot] = next + 1;
        return next;
      }
    }
    const meta = this.meta;
    const queued = meta[QUEUED]!;
    if (queued > 0) {
      const n = this.frameCount;
      const q = this.freeQueue;
      const head = meta[FREE_HEAD]!;
      const first = q[head]!;
      let length = 1;
      if (slot >= 0) {
        // at most a quarter of what is queued: a node's many threads then never hold most of its
        // free memory in their runs, and an allocation rarely has to take from another thread's run
        const most = Math.min(this.runFrames, Math.max(1, queued >> 2));
        while (length < most && q[(head + length) % n] === first + length) length++;
        runs[2 * slot] = first + 1;
        runs[2 * slot + 1] = first + length;
      }
      Atomics.store(meta, FREE_HEAD, (head + length) % n);
      Atomics.store(meta, QUEUED, queued - length);
      return first;
    }
    for (let s = 0; s < RUN_SLOTS; s++) {
      const next = runs[2 * s]!;
      if (next < runs[2 * s + 1]!) {
        runs[2 * s] = next + 1;
        return next;
      }
    }
    throw new VmError('EINVAL', 'frame allocator corrupted: free frames counted but none queued or reserved');
  }

  private claimRunSlot(): number {
    if (this.runSlot === -1) {
      const claimed = Atomics.add(this.meta, RUN_SLOTS_CLAIMED, 1);
      this.runSlot = claimed < RUN_SLOTS ? claimed : -2;
    }
    return this.runSlot;
  }
}
