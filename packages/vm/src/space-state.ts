import { InvalidArgument, MemlockLimitExceeded, SegmentationFault, formatAddress as hex } from './errors.js';
import { breakCow } from './cow.js';
import { pteIndex } from './pte.js';
import { HEADER_CELLS } from './space-header.js';
import { MemoryHooks } from './memory-hooks.js';
import { MmuNotifier, type InvalidationEvent, type InvalidationRange, type Syscall } from './mmu-notifier.js';
import { PageTable } from './page-table.js';
import type { PhysicalMemory } from './physical-memory.js';
import type { Access } from './prot.js';
import { VmaList } from './vma.js';
import { takePageTable } from './page-table-pool.js';

/** What fork() does with a page pinned for DMA (fork.ts). */
export type ForkPolicy = 'legacy' | 'copy-pinned';
export const FORK_POLICIES: readonly ForkPolicy[] = Object.freeze(['legacy', 'copy-pinned']);

export function checkForkPolicy(policy: unknown, what: string): ForkPolicy {
  if (!FORK_POLICIES.includes(policy as ForkPolicy)) {
    throw new InvalidArgument(`${what}: forkPolicy must be one of ${FORK_POLICIES.join(', ')}, got ${String(policy)}`);
  }
  return policy as ForkPolicy;
}

export interface AddressSpaceOptions {
  /** size of the virtual address window (default 2 GiB) */
  vaBytes?: number;
  /** RLIMIT_MEMLOCK in bytes, charged by pin() and mlock() together (default 8 MiB; Infinity allowed) */
  memlockLimit?: number;
  /** start of the brk heap (default 4 MiB) */
  heapStart?: number;
  /** mmap areas are placed top-down below this address (default vaBytes - 8 MiB, a stack gap) */
  mmapBase?: number;
  /**
   * fork() and pages pinned for DMA: 'copy-pinned' (default; Linux 5.12+ copies them for the child
   * at fork, so the parent keeps its frames) or 'legacy' (shared copy-on-write like any page: the
   * parent's next write moves it off the pinned frame)
   */
  forkPolicy?: ForkPolicy;
}

export const MIN_MMAP_ADDR = 64 * 1024; // mmap_min_addr

/**
 * The owner thread's state of one address space and the helpers every group of calls shares
 * (mapping-calls.ts, locking.ts, kernel-initiated.ts, fork.ts). AddressSpace is its public face;
 * nothing here is exported from the package.
 */
export class SpaceState {
  readonly memory: PhysicalMemory;
  readonly pageSize: number;
  readonly vaBytes: number;
  readonly heapStart: number;
  readonly mmapBase: number;
  readonly table: PageTable;
  readonly vmas = new VmaList();
  readonly mmuNotifier = new MmuNotifier();
  readonly memoryHooks = new MemoryHooks();
  memlockLimit: number;
  forkPolicy: ForkPolicy;
  brkCur: number;
  pinnedBytes = 0;
  mlockedBytes = 0;
  /** the most bytes ever pinned + mlocked at once (what a locked-memory budget must cover) */
  lockedHighWater = 0;
  exited = false;
  /** its handle was taken: another thread may hold its page table, which is then never reused */
  handedOut = false;
  /** fork() prepare handlers (pthread_atfork), in registration order */
  atForkPrepare: Array<() => void> = [];
  /** true while a change runs (subscriber callbacks included): readBegin would wait for itself */
  invalidating = false;
  readonly counters = { migrated: 0, migrateRefused: 0, reclaimed: 0, reclaimRefused: 0, forks: 0, forkCopiedPages: 0 };

  constructor(memory: PhysicalMemory, opts: AddressSpaceOptions) {
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
    this.forkPolicy = checkForkPolicy(opts.forkPolicy ?? 'copy-pinned', 'AddressSpace');
    this.heapStart = opts.heapStart ?? Math.min(4 * 1024 * 1024, Math.floor(vaBytes / 8 / ps) * ps);
    this.mmapBase = opts.mmapBase ?? Math.max(vaBytes - 8 * 1024 * 1024, Math.floor((vaBytes * 3) / 4 / ps) * ps);
    if (this.heapStart % ps !== 0 || this.mmapBase % ps !== 0 || this.heapStart >= this.mmapBase || this.mmapBase > vaBytes) {
      throw new InvalidArgument(`heapStart and mmapBase must be page-aligned with heapStart < mmapBase <= vaBytes`);
    }
    this.brkCur = this.heapStart;
    const pageTable = takePageTable((vaBytes / ps) * 4);
    const header = new SharedArrayBuffer(HEADER_CELLS * 4);
    this.table = new PageTable(memory, new Int32Array(pageTable), new Int32Array(header), false);
    this.table.ownerCowFault = (p) => this.cowFault(p);
  }

  /** What a child of fork() is made with (mlock and pins are not inherited: fork.ts). */
  options(): AddressSpaceOptions {
    const { vaBytes, memlockLimit, heapStart, mmapBase, forkPolicy } = this;
    return { vaBytes, memlockLimit, heapStart, mmapBase, forkPolicy };
  }

  /**
   * The owner's write to a copy-on-write page (cow.ts). A reuse changes no frame, so nobody is
   * told (Linux's wp_page_reuse); a copy moves the page, so it runs as a 'cow' invalidation of that
   * page: readers in other threads retry and subscribers drop what they hold of the old frame.
   */
  private cowFault(p: number): number {
    const { memory, table } = this;
    const f = pteIndex(Atomics.load(table.entries, p));
    const sole = memory.mapCount(f) === 1 && memory.pinCount(f) === 0;
    // inside a change already (a subscriber writing): the sequence is odd, no nested invalidation
    if (sole || this.invalidating) return breakCow(memory, table.entries, table.header, p, false);
    let frame = -1;
    const ps = this.pageSize;
    this.invalidate(p * ps, (p + 1) * ps, 'cow', 'write-fault', () => {
      frame = breakCow(memory, table.entries, table.header, p, false);
    });
    return frame;
  }

  get lockedBytes(): number {
    return this.pinnedBytes + this.mlockedBytes;
  }

  /**
   * Run a mapping change as an invalidation: the sequence count is odd while `change` runs, so
   * readers in other threads retry. Subscribers hear about it only when some page of the range
   * is populated (present or swapped): a change over never-touched pages invalidates nothing an
   * adapter could hold (the behaviour Jason Gunthorpe points out in seed 004).
   */
  invalidate(start: number, end: number, event: InvalidationEvent, cause: Syscall, change: () => void): void {
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
  unmapRange(start: number, end: number, cause: Syscall): void {
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
  chargeMlock(bytes: number, what: string): void {
    if (bytes > 0 && this.lockedBytes + bytes > this.memlockLimit) {
      throw new MemlockLimitExceeded(bytes, this.lockedBytes, this.memlockLimit, what);
    }
    this.mlockedBytes += bytes;
    this.lockedHighWater = Math.max(this.lockedHighWater, this.lockedBytes);
  }

  alignUp(n: number): number {
    return Math.ceil(n / this.pageSize) * this.pageSize;
  }

  checkAlive(what: string): void {
    if (this.exited) throw new InvalidArgument(`${what}: the process has exited; create a new AddressSpace`);
  }

  /** Page-aligned start, positive length, inside the window; returns [start, alignedEnd). */
  checkRange(addr: number, length: number, what: string): [number, number] {
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

  /** Any range, rounded out to pages and clipped to the window. */
  clampRange(addr: number, length: number): [number, number] {
    const ps = this.pageSize;
    const start = Math.max(0, Math.floor(addr / ps) * ps);
    const end = Math.min(this.vaBytes, this.alignUp(addr + length));
    return [start, Math.max(start, end)];
  }

  checkAccessRange(addr: number, length: number, access: Access): void {
    if (this.exited) throw new InvalidArgument(`${access}: the process has exited`);
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(length) || length < 0) {
      throw new InvalidArgument(`${access}: bad range addr=${addr} length=${length}`);
    }
    if (addr < 0 || addr + length > this.vaBytes) {
      throw new SegmentationFault(addr < 0 ? addr : Math.max(addr, this.vaBytes), access, `outside the address window [0, ${hex(this.vaBytes)})`);
    }
  }
}
