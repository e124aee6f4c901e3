import { BadAddress, InvalidArgument, OutOfMemory, formatAddress as hex } from './errors.js';
import { H_EXITED } from './space-header.js';
import { PteState, makePte, withProt, withState } from './pte.js';
import { Prot } from './prot.js';
import { MIN_MMAP_ADDR, type SpaceState } from './space-state.js';

/*
 * The syscalls that change mappings (fork aside: fork.ts), on the owner thread (Linux semantics; the table in the
 * README says which notifier event and memory hook each raises). AddressSpace delegates here.
 */

export interface MmapOptions {
  addr?: number;
  fixed?: boolean;
  prot?: number;
  populate?: boolean;
}

export interface MremapOptions {
  mayMove?: boolean;
  fixed?: boolean;
  newAddr?: number;
}

function checkProt(prot: number, what: string): void {
  if (!Number.isInteger(prot) || prot < 0 || prot > 3) throw new InvalidArgument(`${what}: prot must be a combination of Prot.READ and Prot.WRITE, got ${prot}`);
}

export function mmap(s: SpaceState, length: number, opts: MmapOptions): number {
  s.checkAlive('mmap');
  const ps = s.pageSize;
  if (!Number.isSafeInteger(length) || length <= 0) throw new InvalidArgument(`mmap: length must be a positive integer, got ${length}`);
  const prot = opts.prot ?? Prot.RW;
  checkProt(prot, 'mmap');
  const len = s.alignUp(length);
  let start: number;
  if (opts.fixed === true) {
    const addr = opts.addr;
    if (addr === undefined || addr % ps !== 0 || addr < MIN_MMAP_ADDR || addr + len > s.vaBytes) {
      throw new InvalidArgument(
        `mmap(MAP_FIXED): addr must be page-aligned inside [${hex(MIN_MMAP_ADDR)}, ${hex(s.vaBytes)}) with room for ${len} bytes, got ${addr === undefined ? 'none' : hex(addr)}`,
      );
    }
    start = addr;
    s.memoryHooks.fire('mmap-fixed', start, start + len);
    if (!s.vmas.isFree(start, start + len)) s.unmapRange(start, start + len, 'mmap-fixed');
  } else {
    const hint = opts.addr;
    if (hint !== undefined && hint % ps === 0 && hint >= MIN_MMAP_ADDR && hint + len <= s.vaBytes && s.vmas.isFree(hint, hint + len)) {
      start = hint;
    } else {
      start = s.vmas.findTopDown(len, MIN_MMAP_ADDR, s.mmapBase);
      if (start < 0) throw new OutOfMemory(`mmap: no free virtual range of ${len} bytes below ${hex(s.mmapBase)}; munmap something or use a larger vaBytes`);
    }
  }
  s.vmas.insert({ start, end: start + len, prot, locked: false, heap: false, dontfork: false });
  s.table.setRange(start, start + len, makePte(PteState.NOT_PRESENT, prot, false));
  if (opts.populate === true) s.table.populate(start, start + len);
  return start;
}

export function munmap(s: SpaceState, addr: number, length: number): void {
  s.checkAlive('munmap');
  const [start, end] = s.checkRange(addr, length, 'munmap');
  s.memoryHooks.fire('munmap', start, end);
  s.unmapRange(start, end, 'munmap');
}

export function mremap(s: SpaceState, oldAddr: number, oldLength: number, newLength: number, opts: MremapOptions): number {
  s.checkAlive('mremap');
  const ps = s.pageSize;
  const [oldStart, oldEnd] = s.checkRange(oldAddr, oldLength, 'mremap');
  if (!Number.isSafeInteger(newLength) || newLength <= 0) throw new InvalidArgument(`mremap: newLength must be positive, got ${newLength}`);
  const newLen = s.alignUp(newLength);
  const fixed = opts.fixed === true;
  if (fixed && opts.mayMove !== true) throw new InvalidArgument('mremap: fixed requires mayMove (MREMAP_FIXED without MREMAP_MAYMOVE)');
  let target = -1;
  if (fixed) {
    const na = opts.newAddr;
    if (na === undefined || na % ps !== 0 || na < MIN_MMAP_ADDR || na + newLen > s.vaBytes) {
      throw new InvalidArgument(`mremap: newAddr must be page-aligned with room for ${newLen} bytes, got ${na === undefined ? 'none' : hex(na)}`);
    }
    if (na < oldEnd && oldStart < na + newLen) throw new InvalidArgument('mremap: the new range overlaps the old one');
    target = na;
  }
  const vma = s.vmas.find(oldStart);
  if (vma === undefined || vma.end < oldEnd) {
    throw new BadAddress(oldStart, `mremap: [${hex(oldStart)}, ${hex(oldEnd)}) is not inside one mapping`);
  }
  const attrs = { prot: vma.prot, locked: vma.locked, heap: false, dontfork: vma.dontfork };
  s.memoryHooks.fire('mremap', oldStart, oldEnd);

  // Shrinking releases the tail first (Linux does the same, also before a fixed move).
  let curEnd = oldEnd;
  if (oldStart + newLen < oldEnd) {
    s.unmapRange(oldStart + newLen, oldEnd, 'mremap');
    curEnd = oldStart + newLen;
  }
  if (!fixed) {
    if (oldStart + newLen <= curEnd) return oldStart;
    const growEnd = oldStart + newLen;
    if (growEnd <= s.vaBytes && s.vmas.isFree(curEnd, growEnd)) {
      s.chargeMlock(attrs.locked ? growEnd - curEnd : 0, 'mremap');
      s.vmas.insert({ start: curEnd, end: growEnd, ...attrs });
      s.table.setRange(curEnd, growEnd, makePte(PteState.NOT_PRESENT, attrs.prot, attrs.locked));
      if (attrs.locked) s.table.populate(curEnd, growEnd);
      return oldStart;
    }
    if (opts.mayMove !== true) {
      throw new OutOfMemory(`mremap: cannot grow [${hex(oldStart)}, ${hex(curEnd)}) in place to ${newLen} bytes and mayMove is not set`);
    }
    target = s.vmas.findTopDown(newLen, MIN_MMAP_ADDR, s.mmapBase);
    if (target < 0) throw new OutOfMemory(`mremap: no free virtual range of ${newLen} bytes`);
  } else {
    s.unmapRange(target, target + newLen, 'mremap');
  }
  const moveLen = curEnd - oldStart;
  if (attrs.locked && newLen > moveLen) s.chargeMlock(newLen - moveLen, 'mremap');
  s.invalidate(oldStart, curEnd, 'unmap', 'mremap', () => {
    s.vmas.remove(oldStart, curEnd);
    s.vmas.insert({ start: target, end: target + moveLen, ...attrs });
    s.table.move(oldStart, target, moveLen / ps);
  });
  if (newLen > moveLen) {
    s.vmas.insert({ start: target + moveLen, end: target + newLen, ...attrs });
    s.table.setRange(target + moveLen, target + newLen, makePte(PteState.NOT_PRESENT, attrs.prot, attrs.locked));
    if (attrs.locked) s.table.populate(target + moveLen, target + newLen);
  }
  return target;
}

export function mprotect(s: SpaceState, addr: number, length: number, prot: number): void {
  s.checkAlive('mprotect');
  checkProt(prot, 'mprotect');
  const [start, end] = s.checkRange(addr, length, 'mprotect');
  if (!s.vmas.covers(start, end)) throw new OutOfMemory(`mprotect: [${hex(start)}, ${hex(end)}) is not fully mapped (ENOMEM)`);
  const removes = s.vmas.overlapping(start, end).some((v) => (v.prot & ~prot) !== 0);
  const apply = (): void => {
    s.vmas.update(start, end, (v) => {
      v.prot = prot;
    });
    s.table.rewrite(start, end, (e) => withProt(e, prot));
  };
  if (removes) s.invalidate(start, end, 'protection', 'mprotect', apply);
  else apply();
}

/** MADV_DONTNEED (release the pages), MADV_DONTFORK / MADV_DOFORK (leave the range out of a fork's child, or not). */
export type Advice = 'dontneed' | 'dontfork' | 'dofork';
const ADVICE: readonly Advice[] = ['dontneed', 'dontfork', 'dofork'];

export function madvise(s: SpaceState, addr: number, length: number, advice: Advice): void {
  s.checkAlive('madvise');
  if (!ADVICE.includes(advice)) throw new InvalidArgument(`madvise: advice must be one of ${ADVICE.join(', ')}, got ${String(advice)}`);
  const [start, end] = s.checkRange(addr, length, 'madvise');
  if (!s.vmas.covers(start, end)) throw new OutOfMemory(`madvise: [${hex(start)}, ${hex(end)}) is not fully mapped (ENOMEM)`);
  if (advice !== 'dontneed') {
    // a flag on the areas (VM_DONTCOPY): no page changes, so no invalidation and no hook
    s.vmas.update(start, end, (v) => {
      v.dontfork = advice === 'dontfork';
    });
    return;
  }
  if (s.vmas.overlapping(start, end).some((v) => v.locked)) {
    throw new InvalidArgument(`madvise(DONTNEED) on mlock()ed memory in [${hex(start)}, ${hex(end)}): munlock it first (EINVAL)`);
  }
  s.memoryHooks.fire('madvise', start, end);
  s.invalidate(start, end, 'clear', 'madvise', () => {
    s.table.release(start, end, (e) => withState(e, PteState.NOT_PRESENT));
  });
}

export function brk(s: SpaceState, newBreak: number | undefined): number {
  s.checkAlive('brk');
  if (newBreak === undefined || !Number.isSafeInteger(newBreak) || newBreak < s.heapStart) return s.brkCur;
  const oldEnd = s.alignUp(s.brkCur);
  const newEnd = s.alignUp(newBreak);
  if (newEnd > oldEnd) {
    if (newEnd > s.mmapBase || !s.vmas.isFree(oldEnd, newEnd)) return s.brkCur;
    s.vmas.insert({ start: oldEnd, end: newEnd, prot: Prot.RW, locked: false, heap: true, dontfork: false });
    s.table.setRange(oldEnd, newEnd, makePte(PteState.NOT_PRESENT, Prot.RW, false));
  } else if (newBreak < s.brkCur) {
    s.memoryHooks.fire('brk', newBreak, s.brkCur);
    if (newEnd < oldEnd) s.unmapRange(newEnd, oldEnd, 'brk');
  }
  s.brkCur = newBreak;
  return s.brkCur;
}

export function sbrk(s: SpaceState, increment: number): number {
  const old = brk(s, undefined);
  if (increment === 0) return old;
  if (brk(s, old + increment) !== old + increment) {
    throw new OutOfMemory(`sbrk(${increment}): cannot move the break from ${hex(old)} (a mapping is in the way or the heap would pass ${hex(s.mmapBase)})`);
  }
  return old;
}

export function exit(s: SpaceState): void {
  if (s.exited) return;
  s.mmuNotifier.release();
  s.table.beginChange();
  try {
    for (const v of [...s.vmas.all()]) s.table.release(v.start, v.end, () => 0);
    s.vmas.remove(0, s.vaBytes);
    s.mlockedBytes = 0;
    s.exited = true;
    Atomics.store(s.table.header, H_EXITED, 1);
  } finally {
    s.table.endChange();
  }
}
