import { InvalidArgument } from './errors.js';
import { H_COW_COPIES, H_COW_FAULTS, H_FAULTS, H_LOST_RACES, H_REMOTE_FAULTS, H_SWAP_INS } from './space-header.js';
import * as kernel from './kernel-initiated.js';
import * as locking from './locking.js';
import { MappedView } from './mapped-view.js';
import * as calls from './mapping-calls.js';
import type { MemoryHooks } from './memory-hooks.js';
import type { MmuNotifier, MmuNotifierStats } from './mmu-notifier.js';
import type { PageTable, PhysicalRun } from './page-table.js';
import type { PhysicalMemory } from './physical-memory.js';
import type { Access } from './prot.js';
import { RemoteAddressSpace } from './remote-address-space.js';
import { forkInto } from './fork.js';
import { SpaceState, checkForkPolicy, type AddressSpaceOptions, type ForkPolicy } from './space-state.js';
import type { Vma } from './vma.js';
import { keepPageTable } from './page-table-pool.js';

/** Structured-cloneable view of an address space's shared parts (page table, header). */
export interface AddressSpaceHandle {
  kind: 'address-space';
  pageTable: SharedArrayBuffer;
  header: SharedArrayBuffer;
  pageSize: number;
  vaBytes: number;
}

export type { PhysicalRun, AddressSpaceOptions, ForkPolicy };
export type { Advice, MmapOptions, MremapOptions } from './mapping-calls.js';

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
  /** write faults on copy-on-write pages, by any thread; cowCopies of them copied the page (the rest reused the frame) */
  cowFaults: number;
  cowCopies: number;
  forks: number;
  /** pinned pages copied for a child at fork ('copy-pinned') */
  forkCopiedPages: number;
  pinnedBytes: number;
  mlockedBytes: number;
  invalidations: MmuNotifierStats;
  hookEvents: number;
}

/**
 * One simulated process's memory: VMAs (private to the owning thread) and a page table in
 * shared memory. Syscalls follow Linux semantics; every access goes through the page table.
 *
 * This class is the public face. The work lives by role: mapping-calls.ts (mmap, munmap, mremap,
 * mprotect, madvise, brk, exit), locking.ts (pin, mlock), kernel-initiated.ts (migrate,
 * reclaim), fork.ts and cow.ts (fork and copy-on-write), page-table.ts and fault.ts (translation
 * and faults), space-state.ts (the owner's state and the invalidation every change runs in).
 */
export class AddressSpace {
  readonly memory: PhysicalMemory;
  readonly pageSize: number;
  readonly vaBytes: number;
  readonly mmuNotifier: MmuNotifier;
  readonly memoryHooks: MemoryHooks;
  private readonly s: SpaceState;
  private sharedHandle: AddressSpaceHandle | undefined;

  constructor(memory: PhysicalMemory, opts: AddressSpaceOptions = {}) {
    const s = new SpaceState(memory, opts);
    this.s = s;
    this.memory = memory;
    this.pageSize = s.pageSize;
    this.vaBytes = s.vaBytes;
    this.mmuNotifier = s.mmuNotifier;
    this.memoryHooks = s.memoryHooks;
  }

  /** What another thread needs to view this space (AddressSpace.remote). */
  get handle(): AddressSpaceHandle {
    const s = this.s;
    s.handedOut = true;
    return (this.sharedHandle ??= {
      kind: 'address-space', pageTable: s.table.entries.buffer as SharedArrayBuffer, header: s.table.header.buffer as SharedArrayBuffer,
      pageSize: s.pageSize, vaBytes: s.vaBytes,
    });
  }

  /** Another thread's view of an address space, from its handle. */
  static remote(memory: PhysicalMemory, handle: AddressSpaceHandle): RemoteAddressSpace {
    return new RemoteAddressSpace(memory, handle);
  }

  /** @internal the page table (page-table.ts; entry format in pte.ts) */
  get table(): PageTable {
    return this.s.table;
  }

  /** @internal the shared header (space-header.ts): [0] is the invalidation sequence */
  get header(): Int32Array {
    return this.s.table.header;
  }

  /** RLIMIT_MEMLOCK in bytes, for pin() and mlock() together; may be changed at any time (Infinity allowed). */
  get memlockLimit(): number {
    return this.s.memlockLimit;
  }

  set memlockLimit(bytes: number) {
    if (!(bytes >= 0)) throw new InvalidArgument(`memlockLimit must be >= 0 or Infinity, got ${bytes}`);
    this.s.memlockLimit = bytes;
  }

  /**
   * pthread_atfork's prepare handler: `prepare` runs in the parent at the start of every fork(),
   * before any page is shared (a registration cache purges itself here: UCX_RCACHE_PURGE_ON_FORK).
   * It may make syscalls. Handlers run last-registered first. Returns the function that removes it.
   */
  atFork(prepare: () => void): () => void {
    if (typeof prepare !== 'function') throw new InvalidArgument('atFork: prepare must be a function');
    this.s.atForkPrepare.push(prepare);
    return () => {
      this.s.atForkPrepare = this.s.atForkPrepare.filter((h) => h !== prepare);
    };
  }

  /** What fork() does with pinned pages (AddressSpaceOptions.forkPolicy); may be changed at any time. */
  get forkPolicy(): ForkPolicy {
    return this.s.forkPolicy;
  }

  set forkPolicy(policy: ForkPolicy) {
    this.s.forkPolicy = checkForkPolicy(policy, 'forkPolicy');
  }

  get lockedBytes(): number {
    return this.s.lockedBytes;
  }

  /** The most bytes locked (pinned + mlocked) at once so far: what the memlock limit had to cover. */
  get lockedHighWater(): number {
    return this.s.lockedHighWater;
  }

  /** Current program break. */
  get break(): number {
    return this.s.brkCur;
  }

  get hasExited(): boolean {
    return this.s.exited;
  }

  // ---------------------------------------------------------------- syscalls (mapping-calls.ts)

  mmap(length: number, opts: calls.MmapOptions = {}): number {
    return calls.mmap(this.s, length, opts);
  }

  munmap(addr: number, length: number): void {
    calls.munmap(this.s, addr, length);
  }

  mremap(oldAddr: number, oldLength: number, newLength: number, opts: calls.MremapOptions = {}): number {
    return calls.mremap(this.s, oldAddr, oldLength, newLength, opts);
  }

  mprotect(addr: number, length: number, prot: number): void {
    calls.mprotect(this.s, addr, length, prot);
  }

  madvise(addr: number, length: number, advice: calls.Advice): void {
    calls.madvise(this.s, addr, length, advice);
  }

  /**
   * fork(): a child address space on the same node with every area but the DONTFORK ones; private
   * pages are shared copy-on-write (a write on either side copies the page, and the space that
   * moved hears a 'cow' invalidation). Pinned pages follow `forkPolicy`. See fork.ts.
   */
  fork(): AddressSpace {
    this.s.checkAlive('fork');
    // pthread_atfork: prepare handlers run last-registered first, before anything is shared
    for (const prepare of [...this.s.atForkPrepare].reverse()) prepare();
    const child = new AddressSpace(this.memory, this.s.options());
    try {
      forkInto(this.s, child.s);
    } catch (err) {
      child.exit(); // a fork that ran out of frames leaves no half child behind
      throw err;
    }
    return child;
  }

  /**
   * Set the program break; returns the break now in force. Like the syscall, a request that
   * cannot be met (below the heap start, colliding with a mapping) leaves the break unchanged.
   */
  brk(newBreak?: number): number {
    return calls.brk(this.s, newBreak);
  }

  /** Move the break by `increment` bytes; returns the old break. OutOfMemory when brk refuses. */
  sbrk(increment: number): number {
    return calls.sbrk(this.s, increment);
  }

  /** Process exit: release() every notifier subscriber, then unmap everything. Pins stay until unpin(). */
  exit(): void {
    const s = this.s;
    const wasAlive = !s.exited;
    calls.exit(s);
    // nothing can read the table again: no other thread has it and no pin needs it to be undone
    if (wasAlive && !s.handedOut && s.pinnedBytes === 0) keepPageTable(s.table.entries.buffer as SharedArrayBuffer);
  }

  // ---------------------------------------------------------------- access

  read(addr: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.readInto(addr, out);
    return out;
  }

  readInto(addr: number, target: Uint8Array): void {
    this.s.checkAccessRange(addr, target.length, 'read');
    const bytes = this.memory.bytes;
    this.s.table.eachRun(addr, target.length, 'read', (offset, pos, n) => target.set(bytes.subarray(offset, offset + n), pos));
  }

  write(addr: number, data: ArrayBufferView): void {
    const src = data instanceof Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.s.checkAccessRange(addr, src.length, 'write');
    const bytes = this.memory.bytes;
    this.s.table.eachRun(addr, src.length, 'write', (offset, pos, n) => bytes.set(src.subarray(pos, pos + n), offset));
  }

  fill(addr: number, length: number, byte: number): void {
    this.s.checkAccessRange(addr, length, 'write');
    const bytes = this.memory.bytes;
    this.s.table.eachRun(addr, length, 'write', (offset, _pos, n) => bytes.fill(byte, offset, offset + n));
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
    this.s.checkAccessRange(addr, length, access);
    return this.s.table.runs(addr, length, access);
  }

  /** A guarded window on [addr, addr + length): zero-copy when the frames are consecutive. See MappedView. */
  view(addr: number, length: number, access: Access): MappedView {
    return new MappedView(this, addr, length, access);
  }

  /** Frame mapped at addr now, without faulting; undefined if none is present (or the process has exited: its table may serve another). */
  translate(addr: number): number | undefined {
    return this.s.exited ? undefined : this.s.table.translate(addr);
  }

  /** Number of pages in [addr, addr + length) that hold a frame now. */
  residentPages(addr = 0, length = this.vaBytes): number {
    const [start, end] = this.s.clampRange(addr, length);
    let n = 0;
    for (const v of this.s.vmas.overlapping(start, end)) n += this.s.table.resident(Math.max(v.start, start), Math.min(v.end, end));
    return n;
  }

  /** The VMAs, copied (start, end, prot, locked, heap). */
  mappings(): Vma[] {
    return this.s.vmas.all().map((v) => ({ ...v }));
  }

  // ---------------------------------------------------------------- pinning and locking (locking.ts)

  /**
   * Fault in and pin every page of [addr, addr + length) (get_user_pages with FOLL_LONGTERM):
   * the frames stay allocated and unmovable until unpin(). Charged to the memlock limit; on any
   * error nothing is pinned. Returns the frames, one per page.
   */
  pin(addr: number, length: number): number[] {
    return locking.pin(this.s, addr, length);
  }

  /** Drop pins taken by pin(); allowed after exit (an adapter deregistering late). */
  unpin(frames: number[]): void {
    locking.unpin(this.s, frames);
  }

  /** Keep [addr, addr + length) resident: reclaim refuses it, migration still moves it (Linux). */
  mlock(addr: number, length: number): void {
    locking.mlock(this.s, addr, length);
  }

  munlock(addr: number, length: number): void {
    locking.munlock(this.s, addr, length);
  }

  // ---------------------------------------------------------------- kernel-initiated (kernel-initiated.ts)

  /**
   * Page migration (compaction, NUMA balancing): every present page of the range that is not
   * pinned moves to a new frame with its contents; mlocked pages move too. Pinned pages are
   * refused and reported by address. Raises a 'migrate' invalidation; no memory hook sees it.
   */
  migrate(addr: number, length: number): { moved: number; refused: number[] } {
    return kernel.migrate(this.s, addr, length);
  }

  /**
   * Reclaim under memory pressure: present pages that are neither pinned nor mlocked are written
   * to the node's swap area and their frames freed; the next touch (from any thread) swaps them
   * back in. Refused pages are reported by address; `swapFull` counts pages left for lack of swap.
   */
  reclaim(addr: number, length: number): { reclaimed: number; refused: number[]; swapFull: number } {
    return kernel.reclaim(this.s, addr, length);
  }

  // ---------------------------------------------------------------- sequence counter

  /** mmu_interval_read_begin: the current (even) invalidation count. */
  readBegin(): number {
    if (this.s.invalidating) {
      throw new InvalidArgument('readBegin() inside an mmu notifier callback would wait for itself; defer the work until after the callback');
    }
    return this.s.table.sequence();
  }

  /** mmu_interval_read_retry: true when a mapping changed since readBegin returned `seq`. */
  readRetry(seq: number): boolean {
    return this.s.table.sequence() !== seq;
  }

  get stats(): AddressSpaceStats {
    const h = this.header;
    return {
      vmas: this.s.vmas.count,
      faults: Atomics.load(h, H_FAULTS),
      remoteFaults: Atomics.load(h, H_REMOTE_FAULTS),
      swapIns: Atomics.load(h, H_SWAP_INS),
      lostFaultRaces: Atomics.load(h, H_LOST_RACES),
      cowFaults: Atomics.load(h, H_COW_FAULTS),
      cowCopies: Atomics.load(h, H_COW_COPIES),
      ...this.s.counters,
      pinnedBytes: this.s.pinnedBytes,
      mlockedBytes: this.s.mlockedBytes,
      invalidations: { ...this.mmuNotifier.counts },
      hookEvents: this.memoryHooks.fired,
    };
  }
}
