import { BadAddress, InvalidArgument, MemlockLimitExceeded, OutOfMemory, PermissionDenied, formatAddress as hex } from './errors.js';
import { withLocked } from './pte.js';
import { Prot } from './prot.js';
import type { SpaceState } from './space-state.js';

/*
 * Pinning (get_user_pages with FOLL_LONGTERM) and mlock, both charged to one memlock budget
 * (lockedBytes = pinned + mlocked; Linux keeps pinned_vm and locked_vm apart). AddressSpace
 * delegates here.
 */

/** Page-rounded [start, end) of a range that need not be aligned. */
function pageSpan(s: SpaceState, addr: number, length: number): [number, number] {
  const ps = s.pageSize;
  return [Math.floor(addr / ps) * ps, s.alignUp(addr + length)];
}

export function pin(s: SpaceState, addr: number, length: number): number[] {
  s.checkAlive('pin');
  const ps = s.pageSize;
  if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(length) || length <= 0 || addr < 0 || addr + length > s.vaBytes) {
    throw new InvalidArgument(`pin: bad range addr=${addr} length=${length}`);
  }
  const [start, end] = pageSpan(s, addr, length);
  if (!s.vmas.covers(start, end)) throw new BadAddress(start, `pin: [${hex(start)}, ${hex(end)}) is not fully mapped`);
  const areas = s.vmas.overlapping(start, end);
  if (areas.some((v) => v.prot === Prot.NONE)) throw new BadAddress(start, 'pin: part of the range is PROT_NONE');
  const bytes = end - start;
  if (s.lockedBytes + bytes > s.memlockLimit) {
    throw new MemlockLimitExceeded(bytes, s.lockedBytes, s.memlockLimit, 'pin');
  }
  const frames: number[] = [];
  for (let p = start / ps; p < end / ps; p++) {
    const v = s.vmas.find(p * ps)!;
    frames.push(s.table.frame(p, v.prot & Prot.WRITE ? 'write' : 'read'));
  }
  for (const f of frames) s.memory.pinFrame(f);
  s.pinnedBytes += bytes;
  s.lockedHighWater = Math.max(s.lockedHighWater, s.lockedBytes);
  return frames;
}

export function unpin(s: SpaceState, frames: number[]): void {
  for (const f of frames) s.memory.unpinFrame(f);
  s.pinnedBytes = Math.max(0, s.pinnedBytes - frames.length * s.pageSize);
}

export function mlock(s: SpaceState, addr: number, length: number): void {
  s.checkAlive('mlock');
  if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(length) || length <= 0 || addr < 0) {
    throw new InvalidArgument(`mlock: bad range addr=${addr} length=${length}`);
  }
  const [start, end] = pageSpan(s, addr, length);
  if (!s.vmas.covers(start, end)) throw new OutOfMemory(`mlock: [${hex(start)}, ${hex(end)}) is not fully mapped (ENOMEM)`);
  let add = 0;
  for (const v of s.vmas.overlapping(start, end)) if (!v.locked) add += Math.min(v.end, end) - Math.max(v.start, start);
  if (s.memlockLimit === 0 && add > 0) {
    throw new PermissionDenied('mlock: the locked-memory limit is 0 (EPERM); raise memlockLimit');
  }
  s.chargeMlock(add, 'mlock');
  s.vmas.update(start, end, (v) => {
    v.locked = true;
  });
  s.table.rewrite(start, end, (e) => withLocked(e, true));
  s.table.populate(start, end);
}

export function munlock(s: SpaceState, addr: number, length: number): void {
  s.checkAlive('munlock');
  const [start, end] = pageSpan(s, addr, length);
  if (!s.vmas.covers(start, end)) throw new OutOfMemory(`munlock: [${hex(start)}, ${hex(end)}) is not fully mapped (ENOMEM)`);
  let sub = 0;
  for (const v of s.vmas.overlapping(start, end)) if (v.locked) sub += Math.min(v.end, end) - Math.max(v.start, start);
  s.mlockedBytes -= sub;
  s.vmas.update(start, end, (v) => {
    v.locked = false;
  });
  s.table.rewrite(start, end, (e) => withLocked(e, false));
}
