import {
  BadAddress,
  InvalidArgument,
  MemlockLimitExceeded,
  OutOfMemory,
  PermissionDenied,
  SegmentationFault,
  formatAddress as hex,
} from './errors.js';
import { H_EXITED, H_FAULTS, H_LOST_RACES, H_REMOTE_FAULTS, H_SWAP_INS, HEADER_CELLS } from './fault.js';
import { MappedView } from './mapped-view.js';
import { MemoryHooks } from './memory-hooks.js';
import { MmuNotifier, type InvalidationEvent, type InvalidationRange, type Syscall } from './mmu-notifier.js';
import { PageTable, type PhysicalRun } from './page-table.js';
import { PteState, makePte, withLocked, withProt, withState } from './pte.js';
import type { PhysicalMemory } from './physical-memory.js';
import { Prot, type Access } from './prot.js';
import { RemoteAddressSpace } from './remote-address-space.js';
import { VmaList, type Vma } from './vma.js';

/** Structured-cloneable view of an address space's shared parts (page table, header). */
export interface AddressSpaceHandle {
  kind: 'address-space';
  pageTable: SharedArrayBuffer;
  header: SharedArrayBuffer;
  pageSize: number;
  vaBytes: number;
}

export type { PhysicalRun };

export interface AddressSpaceOptions {
  /** size of the virtual address window (default 2 GiB) */
  vaBytes?: number;
  /** RLIMIT_MEMLOCK in bytes, charged by pin() and mlock() together (default 8 MiB; Infinity allowed) */
  memlockLimit?: number;
  /** start of the brk heap (default 4 MiB) */
  heapStart?: number;
  /** mmap areas are placed top-down below this address (default vaBytes - 8 MiB, a stack gap) */
  mmapBase?: number;
}

export interface AddressSpaceStats {
  vmas: number;
  faults: number;
  remoteFaults: number;
  swapIns: number;
  lostFaultRaces: number;
  migrated: number;
  migrateRefused: number;
  reclaimed: number;
  reclaimRefused: number;
  pinnedBytes: number;
  mlockedBytes: number;
  invalidations: { unmap: number; clear: number; protection: number; migrate: number; release: number; skipped: number };
  hookEvents: number;
}

const MIN_MMAP_ADDR = 64 * 1024; // mmap_min_addr

/**
 * One simulated process's memory: VMAs (private to the owning thread) and a page table in
 * shared memory. Syscalls follow Linux semantics; every access goes through the page table.
 */
export class AddressSpace {
  readonly memory: PhysicalMemory;
  readonly pageSize: number;
  readonly vaBytes: number;
  readonly handle: AddressSpaceHandle;
  readonly mmuNotifier: MmuNotifier;
  readonly memoryHooks: MemoryHooks;
  memlockLimit: number;

  /** @internal the page table (page-table.ts; entry format in pte.ts) */
  readonly table: PageTable;
  private readonly vmas = new VmaList();
  private readonly heapStart: number;
  private readonly mmapBase: number;
  private brkCur: number;
  private pinnedBytes = 0;
  private mlockedBytes = 0;
  private exited = false;
  private invalidating = false;
  private counters = { migrated: 0, migrateRefused: 0, reclaimed: 0, reclaimRefused: 0 };

  constructor(memory: PhysicalMemory, opts: AddressSpaceOptions = {}) {
    const ps = memory.pageSize;
    const vaBytes = opts.vaBytes ?? 2 * 1024 * 1024 * 1024;
    if (!Number.isSafeInteger(vaBytes) || vaBytes % ps !== 0 || vaBytes < 64 * ps) {
      throw new InvalidArgument(`vaBytes must be a multiple of the page size (${ps}) and at least 64 pages, got ${vaBytes}`);
    }
    const memlockLimit = opts.memlockLimit ?? 8 * 1024 * 1024;
    if (!(memlockLimit >= 0)) throw new InvalidArgument(`memlockLimit must be >= 0 or Infinity, got ${memlockLimit}`);
    this.memory = memory;
    this.pageSize = ps;
    this.vaBytes = vaBytes;
    this.memlockLimit = memlockLimit;
    this.heapStart = opts.heapStart ?? Math.min(4 * 1024 * 1024, Math.floor(vaBytes / 8 / ps) * ps);
    this.mmapBase = opts.mmapBase ?? Math.max(vaBytes - 8 * 1024 * 1024, Math.floor((vaBytes * 3) / 4 / ps) * ps);
    if (this.heapStart % ps !== 0 || this.mmapBase % ps !== 0 || this.heapStart >= this.mmapBase || this.mmapBase > vaBytes) {
      throw new InvalidArgument(`heapStart and mmapBase must be page-aligned with heapStart < mmapBase <= vaBytes`);
    }
    this.brkCur = this.heapStart;
    const pageTable = new SharedArrayBuffer((vaBytes / ps) * 4);
    const header = new SharedArrayBuffer(HEADER_CELLS * 4);
    this.handle = { kind: 'address-space', pageTable, header, pageSize: ps, vaBytes };
    this.table = new PageTable(memory, new Int32Array(pageTable), new Int32Array(header), false);
    this.mmuNotifier = new MmuNotifier();
    this.memoryHooks = new MemoryHooks();
  }

  /** Another thread's view of an address space, from its handle. */
  static remote(memory: PhysicalMemory, handle: AddressSpaceHandle): RemoteAddressSpace {
    return new RemoteAddressSpace(memory, handle);
  }

  /** @internal the shared header (fault.ts): [0] is the invalidation sequence */
  get header(): Int32Array {
    return this.table.header;
  }

  get lockedBytes(): number {
    return this.pinnedBytes + this.mlockedBytes;
  }

  /** Current program break. */
  get break(): number {
    return this.brkCur;
  }

  // ---------------------------------------------------------------- syscalls

  mmap(length: number, opts: { addr?: number; fixed?: boolean; prot?: number; populate?: boolean } = {}): number {
    this.checkAlive('mmap');
    const ps = this.pageSize;
    if (!Number.isSafeInteger(length) || length <= 0) throw new InvalidArgument(`mmap: length must be a positive integer, got ${length}`);
    const prot = opts.prot ?? Prot.RW;
    if (!Number.isInteger(prot) || prot < 0 || prot > 3) throw new InvalidArgument(`mmap: prot must be a combination of Prot.READ and Prot.WRITE, got ${prot}`);
    const len = this.alignUp(length);
    let start: number;
    if (opts.fixed === true) {
      const addr = opts.addr;
      if (addr === undefined || addr % ps !== 0 || addr < MIN_MMAP_ADDR || addr + len > this.vaBytes) {
        throw new InvalidArgument(
          `mmap(MAP_FIXED): addr must be page-aligned inside [${hex(MIN_MMAP_ADDR)}, ${hex(this.vaBytes)}) with room for ${len} bytes, got ${addr === undefined ? 'none' : hex(addr)}`,
        );
      }
      start = addr;
      this.memoryHooks.fire('mmap-fixed', start, start + len);
      if (!this.vmas.isFree(start, start + len)) this.unmapRange(start, start + len, 'mmap-fixed');
    } else {
      const hint = opts.addr;
      if (
        hint !== undefined &&
        hint % ps === 0 &&
        hint >= MIN_MMAP_ADDR &&
        hint + len <= this.vaBytes &&
        this.vmas.isFree(hint, hint + len)
      ) {
        start = hint;
      } else {
        start = this.vmas.findTopDown(len, MIN_MMAP_ADDR, this.mmapBase);
        if (start < 0) throw new OutOfMemory(`mmap: no free virtual range of ${len} bytes below ${hex(this.mmapBase)}; munmap something or use a larger vaBytes`);
      }
    }
    this.vmas.insert({ start, end: start + len, prot, locked: false, heap: false });
    this.table.setRange(start, start + len, makePte(PteState.NOT_PRESENT, prot, false));
    if (opts.populate === true) this.table.populate(start, start + len);
    return start;
  }

  munmap(addr: number, length: number): void {
    this.checkAlive('munmap');
    const [start, end] = this.checkRange(addr, length, 'munmap');
    this.memoryHooks.fire('munmap', start, end);
    this.unmapRange(start, end, 'munmap');
  }

  mremap(
    oldAddr: number,
    oldLength: number,
    newLength: number,
    opts: { mayMove?: boolean; fixed?: boolean; newAddr?: number } = {},
  ): number {
    this.checkAlive('mremap');
    const ps = this.pageSize;
    const [oldStart, oldEnd] = this.checkRange(oldAddr, oldLength, 'mremap');
    if (!Number.isSafeInteger(newLength) || newLength <= 0) throw new InvalidArgument(`mremap: newLength must be positive, got ${newLength}`);
    const newLen = this.alignUp(newLength);
    const fixed = opts.fixed === true;
    if (fixed && opts.mayMove !== true) throw new InvalidArgument('mremap: fixed requires mayMove (MREMAP_FIXED without MREMAP_MAYMOVE)');
    let target = -1;
    if (fixed) {
      const na = opts.newAddr;
      if (na === undefined || na % ps !== 0 || na < MIN_MMAP_ADDR || na + newLen > this.vaBytes) {
        throw new InvalidArgument(`mremap: newAddr must be page-aligned with room for ${newLen} bytes, got ${na === undefined ? 'none' : hex(na)}`);
      }
      if (na < oldEnd && oldStart < na + newLen) throw new InvalidArgument('mremap: the new range overlaps the old one');
      target = na;
    }
    const vma = this.vmas.find(oldStart);
    if (vma === undefined || vma.end < oldEnd) {
      throw new BadAddress(oldStart, `mremap: [${hex(oldStart)}, ${hex(oldEnd)}) is not inside one mapping`);
    }
    const attrs = { prot: vma.prot, locked: vma.locked, heap: false };
    this.memoryHooks.fire('mremap', oldStart, oldEnd);

    // Shrinking releases the tail first (Linux does the same, also before a fixed move).
    let curEnd = oldEnd;
    if (oldStart + newLen < oldEnd) {
      this.unmapRange(oldStart + newLen, oldEnd, 'mremap');
      curEnd = oldStart + newLen;
    }
    if (!fixed) {
      if (oldStart + newLen <= curEnd) return oldStart;
      const growEnd = oldStart + newLen;
      if (growEnd <= this.vaBytes && this.vmas.isFree(curEnd, growEnd)) {
        this.chargeMlock(attrs.locked ? growEnd - curEnd : 0, 'mremap');
        this.vmas.insert({ start: curEnd, end: growEnd, ...attrs });
        this.table.setRange(curEnd, growEnd, makePte(PteState.NOT_PRESENT, attrs.prot, attrs.locked));
        if (attrs.locked) this.table.populate(curEnd, growEnd);
        return oldStart;
      }
      if (opts.mayMove !== true) {
        throw new OutOfMemory(`mremap: cannot grow [${hex(oldStart)}, ${hex(curEnd)}) in place to ${newLen} bytes and mayMove is not set`);
      }
      target = this.vmas.findTopDown(newLen, MIN_MMAP_ADDR, this.mmapBase);
      if (target < 0) throw new OutOfMemory(`mremap: no free virtual range of ${newLen} bytes`);
    } else {
      this.unmapRange(target, target + newLen, 'mremap');
    }
    const moveLen = curEnd - oldStart;
    if (attrs.locked && newLen > moveLen) this.chargeMlock(newLen - moveLen, 'mremap');
    this.invalidate(oldStart, curEnd, 'unmap', 'mremap', () => {
      this.vmas.remove(oldStart, curEnd);
      this.vmas.insert({ start: target, end: target + moveLen, ...attrs });
      this.table.move(oldStart, target, moveLen / ps);
    });
    if (newLen > moveLen) {
      this.vmas.insert({ start: target + moveLen, end: target + newLen, ...attrs });
      this.table.setRange(target + moveLen, target + newLen, makePte(PteState.NOT_PRESENT, attrs.prot, attrs.locked));
      if (attrs.locked) this.table.populate(target + moveLen, target + newLen);
    }
    return target;
  }

  mprotect(addr: number, length: number, prot: number): void {
    this.checkAlive('mprotect');
    if (!Number.isInteger(prot) || prot < 0 || prot > 3) throw new InvalidArgument(`mprotect: prot must be a combination of Prot.READ and Prot.WRITE, got ${prot}`);
    const [start, end] = this.checkRange(addr, length, 'mprotect');
    if (!this.vmas.covers(start, end)) throw new OutOfMemory(`mprotect: [${hex(start)}, ${hex(end)}) is not fully mapped (ENOMEM)`);
    const removes = this.vmas.overlapping(start, end).some((v) => (v.prot & ~prot) !== 0);
    const apply = (): void => {
      this.vmas.update(start, end, (v) => {
        v.prot = prot;
      });
      this.table.rewrite(start, end, (e) => withProt(e, prot));
    };
    if (removes) this.invalidate(start, end, 'protection', 'mprotect', apply);
    else apply();
  }

  madvise(addr: number, length: number, advice: 'dontneed'): void {
    this.checkAlive('madvise');
    if (advice !== 'dontneed') throw new InvalidArgument(`madvise: only 'dontneed' is supported, got ${String(advice)}`);
    const [start, end] = this.checkRange(addr, length, 'madvise');
    if (!this.vmas.covers(start, end)) throw new OutOfMemory(`madvise: [${hex(start)}, ${hex(end)}) is not fully mapped (ENOMEM)`);
    if (this.vmas.overlapping(start, end).some((v) => v.locked)) {
      throw new InvalidArgument(`madvise(DONTNEED) on mlock()ed memory in [${hex(start)}, ${hex(end)}): munlock it first (EINVAL)`);
    }
    this.memoryHooks.fire('madvise', start, end);
    this.invalidate(start, end, 'clear', 'madvise', () => {
      this.table.release(start, end, (e) => withState(e, PteState.NOT_PRESENT));
    });
  }

  /**
   * Set the program break; returns the break now in force. Like the syscall, a request that
   * cannot be met (below the heap start, colliding with a mapping) leaves the break unchanged.
   */
  brk(newBreak?: number): number {
    this.checkAlive('brk');
    if (newBreak === undefined || !Number.isSafeInteger(newBreak) || newBreak < this.heapStart) return this.brkCur;
    const oldEnd = this.alignUp(this.brkCur);
    const newEnd = this.alignUp(newBreak);
    if (newEnd > oldEnd) {
      if (newEnd > this.mmapBase || !this.vmas.isFree(oldEnd, newEnd)) return this.brkCur;
      this.vmas.insert({ start: oldEnd, end: newEnd, prot: Prot.RW, locked: false, heap: true });
      this.table.setRange(oldEnd, newEnd, makePte(PteState.NOT_PRESENT, Prot.RW, false));
    } else if (newBreak < this.brkCur) {
      this.memoryHooks.fire('brk', newBreak, this.brkCur);
      if (newEnd < oldEnd) this.unmapRange(newEnd, oldEnd, 'brk');
    }
    this.brkCur = newBreak;
    return this.brkCur;
  }

  /** Move the break by `increment` bytes; returns the old break. OutOfMemory when brk refuses. */
  sbrk(increment: number): number {
    const old = this.brk();
    if (increment === 0) return old;
    if (this.brk(old + increment) !== old + increment) {
      throw new OutOfMemory(`sbrk(${increment}): cannot move the break from ${hex(old)} (a mapping is in the way or the heap would pass ${hex(this.mmapBase)})`);
    }
    return old;
  }

  /** Process exit: release() every notifier subscriber, then unmap everything. Pins stay until unpin(). */
  exit(): void {
    if (this.exited) return;
    this.mmuNotifier.release();
    this.table.beginChange();
    try {
      for (const v of [...this.vmas.all()]) this.table.release(v.start, v.end, () => 0);
      this.vmas.remove(0, this.vaBytes);
      this.mlockedBytes = 0;
      this.exited = true;
      Atomics.store(this.header, H_EXITED, 1);
    } finally {
      this.table.endChange();
    }
  }

  // ---------------------------------------------------------------- access

  read(addr: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.readInto(addr, out);
    return out;
  }

  readInto(addr: number, target: Uint8Array): void {
    this.checkAccessRange(addr, target.length, 'read');
    const bytes = this.memory.bytes;
    this.table.eachRun(addr, target.length, 'read', (offset, pos, n) => target.set(bytes.subarray(offset, offset + n), pos));
  }

  write(addr: number, data: ArrayBufferView): void {
    const src = data instanceof Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.checkAccessRange(addr, src.length, 'write');
    const bytes = this.memory.bytes;
    this.table.eachRun(addr, src.length, 'write', (offset, pos, n) => bytes.set(src.subarray(pos, pos + n), offset));
  }

  fill(addr: number, length: number, byte: number): void {
    this.checkAccessRange(addr, length, 'write');
    const bytes = this.memory.bytes;
    this.table.eachRun(addr, length, 'write', (offset, _pos, n) => bytes.fill(byte, offset, offset + n));
  }

  /** memmove semantics: overlapping ranges copy as if through a temporary. */
  copy(dst: number, src: number, length: number): void {
    if (length === 0) return;
    this.write(dst, this.read(src, length));
  }

  /**
   * Physical runs backing [addr, addr + length), faulting pages in for `access`; consecutive
   * frames coalesce into one run. Valid until the next mapping change (see readBegin).
   */
  runs(addr: number, length: number, access: Access): PhysicalRun[] {
    this.checkAccessRange(addr, length, access);
    return this.table.runs(addr, length, access);
  }

  /** A guarded window on [addr, addr + length): zero-copy when the frames are consecutive. See MappedView. */
  view(addr: number, length: number, access: Access): MappedView {
    return new MappedView(this, addr, length, access);
  }

  /** Frame mapped at addr now, without faulting; undefined if none is present. */
  translate(addr: number): number | undefined {
    return this.table.translate(addr);
  }

  /** Number of pages in [addr, addr + length) that hold a frame now. */
  residentPages(addr = 0, length = this.vaBytes): number {
    const [start, end] = this.clampRange(addr, length);
    let n = 0;
    for (const v of this.vmas.overlapping(start, end)) n += this.table.resident(Math.max(v.start, start), Math.min(v.end, end));
    return n;
  }

  /** The VMAs, copied (start, end, prot, locked, heap). */
  mappings(): Vma[] {
    return this.vmas.all().map((v) => ({ ...v }));
  }

  // ---------------------------------------------------------------- pinning and locking

  /**
   * Fault in and pin every page of [addr, addr + length) (get_user_pages with FOLL_LONGTERM):
   * the frames stay allocated and unmovable until unpin(). Charged to the memlock limit; on any
   * error nothing is pinned. Returns the frames, one per page.
   */
  pin(addr: number, length: number): number[] {
    this.checkAlive('pin');
    const ps = this.pageSize;
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(length) || length <= 0 || addr < 0 || addr + length > this.vaBytes) {
      throw new InvalidArgument(`pin: bad range addr=${addr} length=${length}`);
    }
    const start = Math.floor(addr / ps) * ps;
    const end = this.alignUp(addr + length);
    if (!this.vmas.covers(start, end)) throw new BadAddress(start, `pin: [${hex(start)}, ${hex(end)}) is not fully mapped`);
    const areas = this.vmas.overlapping(start, end);
    if (areas.some((v) => v.prot === Prot.NONE)) throw new BadAddress(start, 'pin: part of the range is PROT_NONE');
    const bytes = end - start;
    if (this.lockedBytes + bytes > this.memlockLimit) {
      throw new MemlockLimitExceeded(bytes, this.lockedBytes, this.memlockLimit, 'pin');
    }
    const frames: number[] = [];
    for (let p = start / ps; p < end / ps; p++) {
      const v = this.vmas.find(p * ps)!;
      frames.push(this.table.frame(p, v.prot & Prot.WRITE ? 'write' : 'read'));
    }
    for (const f of frames) this.memory.pinFrame(f);
    this.pinnedBytes += bytes;
    return frames;
  }

  /** Drop pins taken by pin(); allowed after exit (an adapter deregistering late). */
  unpin(frames: number[]): void {
    for (const f of frames) this.memory.unpinFrame(f);
    this.pinnedBytes = Math.max(0, this.pinnedBytes - frames.length * this.pageSize);
  }

  /** Keep [addr, addr + length) resident: reclaim refuses it, migration still moves it (Linux). */
  mlock(addr: number, length: number): void {
    this.checkAlive('mlock');
    const ps = this.pageSize;
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(length) || length <= 0 || addr < 0) {
      throw new InvalidArgument(`mlock: bad range addr=${addr} length=${length}`);
    }
    const start = Math.floor(addr / ps) * ps;
    const end = this.alignUp(addr + length);
    if (!this.vmas.covers(start, end)) throw new OutOfMemory(`mlock: [${hex(start)}, ${hex(end)}) is not fully mapped (ENOMEM)`);
    let add = 0;
    for (const v of this.vmas.overlapping(start, end)) if (!v.locked) add += Math.min(v.end, end) - Math.max(v.start, start);
    if (this.memlockLimit === 0 && add > 0) {
      throw new PermissionDenied('mlock: the locked-memory limit is 0 (EPERM); raise memlockLimit');
    }
    this.chargeMlock(add, 'mlock');
    this.vmas.update(start, end, (v) => {
      v.locked = true;
    });
    this.table.rewrite(start, end, (e) => withLocked(e, true));
    this.table.populate(start, end);
  }

  munlock(addr: number, length: number): void {
    this.checkAlive('munlock');
    const ps = this.pageSize;
    const start = Math.floor(addr / ps) * ps;
    const end = this.alignUp(addr + length);
    if (!this.vmas.covers(start, end)) throw new OutOfMemory(`munlock: [${hex(start)}, ${hex(end)}) is not fully mapped (ENOMEM)`);
    let sub = 0;
    for (const v of this.vmas.overlapping(start, end)) if (v.locked) sub += Math.min(v.end, end) - Math.max(v.start, start);
    this.mlockedBytes -= sub;
    this.vmas.update(start, end, (v) => {
      v.locked = false;
    });
    this.table.rewrite(start, end, (e) => withLocked(e, false));
  }

  // ---------------------------------------------------------------- kernel-initiated

  /**
   * Page migration (compaction, NUMA balancing): every present page of the range that is not
   * pinned moves to a new frame with its contents; mlocked pages move too. Pinned pages are
   * refused and reported by address. Raises a 'migrate' invalidation; no memory hook sees it.
   */
  migrate(addr: number, length: number): { moved: number; refused: number[] } {
    this.checkAlive('migrate');
    const [start, end] = this.clampRange(addr, length);
    const { movable, refused } = this.scan(start, end, (p) => this.table.migratable(p), 'moved');
    let moved = 0;
    if (movable.length > 0) {
      this.invalidate(start, end, 'migrate', 'migrate', () => {
        for (const p of movable) {
          if (this.table.migrate(p) === 'moved') moved++;
          else refused.push(p * this.pageSize);
        }
      });
    }
    refused.sort((a, b) => a - b);
    this.counters.migrated += moved;
    this.counters.migrateRefused += refused.length;
    return { moved, refused };
  }

  /**
   * Reclaim under memory pressure: present pages that are neither pinned nor mlocked are written
   * to the node's swap area and their frames freed; the next touch (from any thread) swaps them
   * back in. Refused pages are reported by address; `swapFull` counts pages left for lack of swap.
   */
  reclaim(addr: number, length: number): { reclaimed: number; refused: number[]; swapFull: number } {
    this.checkAlive('reclaim');
    const [start, end] = this.clampRange(addr, length);
    const { movable, refused } = this.scan(start, end, (p) => this.table.reclaimable(p), 'reclaimed');
    let reclaimed = 0;
    let swapFull = 0;
    if (movable.length > 0) {
      this.invalidate(start, end, 'clear', 'reclaim', () => {
        for (const p of movable) {
          const r = this.table.swapOut(p);
          if (r === 'reclaimed') reclaimed++;
          else if (r === 'swap-full') swapFull++;
          else if (r !== 'absent') refused.push(p * this.pageSize);
        }
      });
    }
    refused.sort((a, b) => a - b);
    this.counters.reclaimed += reclaimed;
    this.counters.reclaimRefused += refused.length;
    return { reclaimed, refused, swapFull };
  }

  /** Pages of the mapped part of [start, end) that `verdict` would act on, and the addresses it refuses. */
  private scan(start: number, end: number, verdict: (p: number) => string, yes: string): { movable: number[]; refused: number[] } {
    const ps = this.pageSize;
    const movable: number[] = [];
    const refused: number[] = [];
    for (const v of this.vmas.overlapping(start, end)) {
      for (let p = Math.max(v.start, start) / ps; p < Math.min(v.end, end) / ps; p++) {
        const r = verdict(p);
        if (r === yes) movable.push(p);
        else if (r !== 'absent') refused.push(p * ps);
      }
    }
    return { movable, refused };
  }

  // ---------------------------------------------------------------- sequence counter

  /** mmu_interval_read_begin: the current (even) invalidation count. */
  readBegin(): number {
    if (this.invalidating) {
      throw new InvalidArgument('readBegin() inside an mmu notifier callback would wait for itself; defer the work until after the callback');
    }
    return this.table.sequence();
  }

  /** mmu_interval_read_retry: true when a mapping changed since readBegin returned `seq`. */
  readRetry(seq: number): boolean {
    return this.table.sequence() !== seq;
  }

  stats(): AddressSpaceStats {
    const h = this.header;
    return {
      vmas: this.vmas.count,
      faults: Atomics.load(h, H_FAULTS),
      remoteFaults: Atomics.load(h, H_REMOTE_FAULTS),
      swapIns: Atomics.load(h, H_SWAP_INS),
      lostFaultRaces: Atomics.load(h, H_LOST_RACES),
      ...this.counters,
      pinnedBytes: this.pinnedBytes,
      mlockedBytes: this.mlockedBytes,
      invalidations: { ...this.mmuNotifier.counts },
      hookEvents: this.memoryHooks.fired,
    };
  }

  get hasExited(): boolean {
    return this.exited;
  }

  // ---------------------------------------------------------------- internals

  /**
   * Run a mapping change as an invalidation: the sequence count is odd while `change` runs, so
   * readers in other threads retry. Subscribers hear about it only when some page of the range
   * is populated (present or swapped): a change over never-touched pages invalidates nothing an
   * adapter could hold (the behaviour Jason Gunthorpe points out in seed 004).
   */
  private invalidate(start: number, end: number, event: InvalidationEvent, cause: Syscall, change: () => void): void {
    const notify = this.mmuNotifier.subscribers > 0 && this.table.populated(start, end);
    const r: InvalidationRange | undefined = notify ? { start, end, event, cause } : undefined;
    if (!notify) this.mmuNotifier.counts.skipped++;
    this.table.beginChange();
    this.invalidating = true;
    try {
      if (r !== undefined) this.mmuNotifier.invalidateRangeStart(r);
      change();
      if (r !== undefined) this.mmuNotifier.invalidateRangeEnd(r);
    } finally {
      this.invalidating = false;
      this.table.endChange();
    }
  }

  /** Remove the mappings in [start, end): one 'unmap' invalidation over the mapped part. */
  private unmapRange(start: number, end: number, cause: Syscall): void {
    const areas = this.vmas.overlapping(start, end);
    if (areas.length === 0) return;
    const s = Math.max(start, areas[0]!.start);
    const e = Math.min(end, areas[areas.length - 1]!.end);
    this.invalidate(s, e, 'unmap', cause, () => {
      for (const v of this.vmas.remove(s, e)) {
        if (v.locked) this.mlockedBytes -= v.end - v.start;
        this.table.release(v.start, v.end, () => 0);
      }
    });
  }

  /** Check the memlock limit for `bytes` more of mlocked memory and take them. */
  private chargeMlock(bytes: number, what: string): void {
    if (bytes > 0 && this.lockedBytes + bytes > this.memlockLimit) {
      throw new MemlockLimitExceeded(bytes, this.lockedBytes, this.memlockLimit, what);
    }
    this.mlockedBytes += bytes;
  }

  private alignUp(n: number): number {
    return Math.ceil(n / this.pageSize) * this.pageSize;
  }

  private checkAlive(what: string): void {
    if (this.exited) throw new InvalidArgument(`${what}: the process has exited; create a new AddressSpace`);
  }

  /** Page-aligned start, positive length, inside the window; returns [start, alignedEnd). */
  private checkRange(addr: number, length: number, what: string): [number, number] {
    if (!Number.isSafeInteger(addr) || addr % this.pageSize !== 0) {
      throw new InvalidArgument(`${what}: address ${addr} is not a multiple of the page size ${this.pageSize}`);
    }
    if (!Number.isSafeInteger(length) || length <= 0) throw new InvalidArgument(`${what}: length must be a positive integer, got ${length}`);
    const end = this.alignUp(addr + length);
    if (addr < 0 || end > this.vaBytes) {
      throw new InvalidArgument(`${what}: [${hex(addr)}, ${hex(end)}) is outside the address window [0, ${hex(this.vaBytes)})`);
    }
    return [addr, end];
  }

  private clampRange(addr: number, length: number): [number, number] {
    const ps = this.pageSize;
    const start = Math.max(0, Math.floor(addr / ps) * ps);
    const end = Math.min(this.vaBytes, this.alignUp(addr + length));
    return [start, Math.max(start, end)];
  }

  private checkAccessRange(addr: number, length: number, access: Access): void {
    if (this.exited) throw new InvalidArgument(`${access}: the process has exited`);
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(length) || length < 0) {
      throw new InvalidArgument(`${access}: bad range addr=${addr} length=${length}`);
    }
    if (addr < 0 || addr + length > this.vaBytes) {
      throw new SegmentationFault(addr < 0 ? addr : Math.max(addr, this.vaBytes), access, `outside the address window [0, ${hex(this.vaBytes)})`);
    }
  }
}

