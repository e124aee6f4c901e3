import { faultPage, waitReadBegin } from './fault.js';
import { H_SEQ } from './space-header.js';
import { PteState, pteCow, pteIndex, pteLocked, pteProt, pteState, withState } from './pte.js';
import type { PhysicalMemory } from './physical-memory.js';
import { protAllows, type Access } from './prot.js';

/** A stretch of physical memory: `offset` into memory.bytes, `length` bytes. */
export interface PhysicalRun {
  offset: number;
  length: number;
}

export type MigrateOutcome = 'moved' | 'pinned' | 'absent';
export type SwapOutOutcome = 'reclaimed' | 'pinned' | 'locked' | 'absent' | 'swap-full';

/**
 * The page-table walks of one address space, shared by its owner (AddressSpace) and by other
 * threads (RemoteAddressSpace). Ranges are byte addresses, page-aligned where they say so.
 * The entry format and who may write what: pte.ts. The sequence counter: mmu-notifier.ts.
 */
export class PageTable {
  readonly memory: PhysicalMemory;
  readonly pageSize: number;
  /** one Int32 entry per virtual page */
  readonly entries: Int32Array;
  /** the shared header (space-header.ts) */
  readonly header: Int32Array;
  private readonly remote: boolean;

  constructor(memory: PhysicalMemory, entries: Int32Array, header: Int32Array, remote: boolean) {
    this.memory = memory;
    this.pageSize = memory.pageSize;
    this.entries = entries;
    this.header = header;
    this.remote = remote;
  }

  get vaBytes(): number {
    return this.entries.length * this.pageSize;
  }

  // ------------------------------------------------------------ translation and faults

  /**
   * The owner's copy-on-write fault (set by the owner's SpaceState: it runs the copy inside an
   * invalidation so the mmu notifier hears it); returns -1 when the entry changed meanwhile.
   * Unset in other threads: their faults break COW in faultPage.
   */
  ownerCowFault: ((p: number) => number) | undefined;

  /** Frame of page `p` for `access`: present and allowed at once, otherwise a demand fault. */
  frame(p: number, access: Access): number {
    const e = Atomics.load(this.entries, p);
    if (pteState(e) === PteState.PRESENT && protAllows(pteProt(e), access)) {
      if (access === 'read' || !pteCow(e)) return pteIndex(e);
      if (this.ownerCowFault !== undefined) {
        const f = this.ownerCowFault(p);
        if (f >= 0) return f;
      }
    }
    return faultPage(this.memory, this.entries, this.header, p, access, this.remote);
  }

  /** Frame mapped at addr now, without faulting. */
  translate(addr: number): number | undefined {
    if (!(addr >= 0 && addr < this.vaBytes)) return undefined;
    const e = Atomics.load(this.entries, Math.floor(addr / this.pageSize));
    return pteState(e) === PteState.PRESENT ? pteIndex(e) : undefined;
  }

  /**
   * Walk [addr, addr + length) page by page (faulting as needed) and call `use` once per stretch
   * of consecutive frames: (offset into memory.bytes, offset into the caller's buffer, bytes).
   * A fault in the middle throws after the earlier stretches were used, as a real copy would.
   */
  eachRun(addr: number, length: number, access: Access, use: (offset: number, pos: number, n: number) => void): void {
    const ps = this.pageSize;
    let a = addr;
    let pos = 0;
    let runOffset = -1;
    let runPos = 0;
    let runLen = 0;
    while (pos < length) {
      const off = a % ps;
      const chunk = Math.min(ps - off, length - pos);
      const offset = this.frame((a - off) / ps, access) * ps + off;
      if (runOffset >= 0 && runOffset + runLen === offset) {
        runLen += chunk;
      } else {
        if (runOffset >= 0) use(runOffset, runPos, runLen);
        runOffset = offset;
        runPos = pos;
        runLen = chunk;
      }
      pos += chunk;
      a += chunk;
    }
    if (runOffset >= 0) use(runOffset, runPos, runLen);
  }

  runs(addr: number, length: number, access: Access): PhysicalRun[] {
    const out: PhysicalRun[] = [];
    this.eachRun(addr, length, access, (offset, _pos, n) => out.push({ offset, length: n }));
    return out;
  }

  // ------------------------------------------------------------ owner-side range changes

  /** Set every entry of the page-aligned range [start, end), which holds no frame (no VMA before). */
  setRange(start: number, end: number, entry: number): void {
    this.entries.fill(entry, start / this.pageSize, end / this.pageSize);
  }

  /**
   * Replace each entry of [start, end) by next(entry) atomically (a remote fault may race) and
   * release what the old entry held: the frame's map reference, or the swap slot. Ascending, so
   * the FIFO free list hands the frames out again in order (remapped buffers stay contiguous).
   */
  release(start: number, end: number, next: (e: number) => number): void {
    const ps = this.pageSize;
    for (let p = start / ps; p < end / ps; p++) {
      const e = this.exchange(p, next);
      const s = pteState(e);
      if (s === PteState.PRESENT) this.memory.putFrame(pteIndex(e));
      else if (s === PteState.SWAPPED) this.memory.freeSwapSlot(pteIndex(e));
    }
  }

  /** Rewrite protection or lock bits of [start, end), keeping state and frame. */
  rewrite(start: number, end: number, next: (e: number) => number): void {
    const ps = this.pageSize;
    for (let p = start / ps; p < end / ps; p++) this.exchange(p, next);
  }

  /** Replaces entry `p` by next(entry) with a CAS loop (a remote fault may race); returns the old entry. */
  exchange(p: number, next: (e: number) => number): number {
    const pt = this.entries;
    let e: number;
    do e = Atomics.load(pt, p);
    while (Atomics.compareExchange(pt, p, e, next(e)) !== e);
    return e;
  }

  /** Move `pages` entries from `from` to `to` (mremap): frames travel with their entries. */
  move(from: number, to: number, pages: number): void {
    const f = from / this.pageSize;
    const t = to / this.pageSize;
    // exchange: a remote fault cannot fill the old entry after we took it
    for (let i = 0; i < pages; i++) Atomics.store(this.entries, t + i, Atomics.exchange(this.entries, f + i, 0));
  }

  /** Some page of [start, end) holds a frame or a swap slot. */
  populated(start: number, end: number): boolean {
    const ps = this.pageSize;
    for (let p = start / ps; p < end / ps; p++) {
      const s = pteState(this.entries[p]!);
      if (s === PteState.PRESENT || s === PteState.SWAPPED) return true;
    }
    return false;
  }

  resident(start: number, end: number): number {
    const ps = this.pageSize;
    let n = 0;
    for (let p = start / ps; p < end / ps; p++) if (pteState(this.entries[p]!) === PteState.PRESENT) n++;
    return n;
  }

  /** Fault in every accessible page of [start, end) (MAP_POPULATE, mlock). */
  populate(start: number, end: number): void {
    const ps = this.pageSize;
    for (let p = start / ps; p < end / ps; p++) {
      const prot = pteProt(this.entries[p]!);
      if (prot !== 0) this.frame(p, prot & 2 ? 'write' : 'read');
    }
  }

  // ------------------------------------------------------------ kernel-initiated, per page

  /** What migration would do with page p now (scan before the invalidation). */
  migratable(p: number): MigrateOutcome {
    const e = Atomics.load(this.entries, p);
    if (pteState(e) !== PteState.PRESENT) return 'absent';
    return this.memory.pinCount(pteIndex(e)) > 0 ? 'pinned' : 'moved';
  }

  /**
   * Copy page p to a new frame and switch the entry; a pinned frame stays where it is. By
   * compare-and-swap: another thread may break copy-on-write on the page meanwhile (cow.ts).
   * The new frame is private: a page shared copy-on-write is no longer shared once moved.
   */
  migrate(p: number): MigrateOutcome {
    const ps = this.pageSize;
    for (;;) {
      const e = Atomics.load(this.entries, p);
      if (pteState(e) !== PteState.PRESENT) return 'absent';
      const old = pteIndex(e);
      // a reader in another thread may have pinned it since the scan
      if (this.memory.pinCount(old) > 0) return 'pinned';
      const f = this.memory.allocFrame();
      this.memory.bytes.copyWithin(f * ps, old * ps, (old + 1) * ps);
      if (Atomics.compareExchange(this.entries, p, e, withState(e, PteState.PRESENT, f)) === e) {
        this.memory.putFrame(old);
        return 'moved';
      }
      this.memory.putFrame(f);
    }
  }

  reclaimable(p: number): SwapOutOutcome {
    const e = Atomics.load(this.entries, p);
    if (pteState(e) !== PteState.PRESENT) return 'absent';
    if (pteLocked(e)) return 'locked';
    return this.memory.pinCount(pteIndex(e)) > 0 ? 'pinned' : 'reclaimed';
  }

  /** Write page p to a swap slot and free its frame; pinned or mlocked pages stay. CAS as in migrate. */
  swapOut(p: number): SwapOutOutcome {
    for (;;) {
      const e = Atomics.load(this.entries, p);
      const verdict = this.reclaimable(p);
      if (verdict !== 'reclaimed') return verdict;
      const f = pteIndex(e);
      const slot = this.memory.allocSwapSlot();
      if (slot < 0) return 'swap-full';
      this.memory.swapOut(f, slot);
      if (Atomics.compareExchange(this.entries, p, e, withState(e, PteState.SWAPPED, slot)) === e) {
        this.memory.putFrame(f);
        return 'reclaimed';
      }
      this.memory.freeSwapSlot(slot);
    }
  }

  // ------------------------------------------------------------ sequence counter

  /** Owner: an invalidation starts (count becomes odd). */
  beginChange(): void {
    Atomics.add(this.header, H_SEQ, 1);
  }

  /** Owner: it ended (even again); wake readers waiting in readBegin. */
  endChange(): void {
    Atomics.add(this.header, H_SEQ, 1);
    Atomics.notify(this.header, H_SEQ);
  }

  sequence(): number {
    return Atomics.load(this.header, H_SEQ);
  }

  /** Any thread but the owner inside a change: wait until even, return it. */
  waitReadBegin(): number {
    return waitReadBegin(this.header);
  }
}
