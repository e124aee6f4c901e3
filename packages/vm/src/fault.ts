import { SegmentationFault } from './errors.js';
import { breakCow } from './cow.js';
import { H_FAULTS, H_LOST_RACES, H_REMOTE_FAULTS, H_SEQ, H_SWAP_INS } from './space-header.js';
import { PteState, pteCow, pteIndex, pteProt, pteState, withState } from './pte.js';
import type { PhysicalMemory } from './physical-memory.js';
import { protAllows, type Access } from './prot.js';

/**
 * Resolve page `page` for `access`, filling it on first touch (zeroed frame) or from swap.
 * Safe from any thread: the only transitions made here are NOT_PRESENT → PRESENT and
 * SWAPPED → PRESENT, each by compare-and-swap; a loser gives its frame back and looks again.
 * A write to a copy-on-write page goes on to breakCow.
 */
export function faultPage(
  memory: PhysicalMemory,
  pt: Int32Array,
  header: Int32Array,
  page: number,
  access: Access,
  remote: boolean,
): number {
  const ps = memory.pageSize;
  for (;;) {
    const e = Atomics.load(pt, page);
    const state = pteState(e);
    if (state === PteState.NONE) throw new SegmentationFault(page * ps, access, 'no mapping at this address (never mapped, or freed / unmapped since)');
    if (!protAllows(pteProt(e), access)) {
      throw new SegmentationFault(page * ps, access, `page protection ${protName(pteProt(e))} forbids ${access} (mprotect the range first)`);
    }
    if (state === PteState.PRESENT) {
      if (access !== 'write' || !pteCow(e)) return pteIndex(e);
      const f = breakCow(memory, pt, header, page, remote);
      if (f >= 0) return f;
      continue; // the entry changed under us: look again
    }
    const f = memory.allocFrame();
    const slot = state === PteState.SWAPPED ? pteIndex(e) : -1;
    if (slot >= 0) memory.swapIn(slot, f);
    if (Atomics.compareExchange(pt, page, e, withState(e, PteState.PRESENT, f)) === e) {
      if (slot >= 0) {
        memory.freeSwapSlot(slot);
        Atomics.add(header, H_SWAP_INS, 1);
      }
      Atomics.add(header, H_FAULTS, 1);
      if (remote) Atomics.add(header, H_REMOTE_FAULTS, 1);
      return f;
    }
    memory.putFrame(f);
    Atomics.add(header, H_LOST_RACES, 1);
  }
}

export function protName(prot: number): string {
  return prot === 0 ? 'PROT_NONE' : [prot & 1 ? 'PROT_READ' : '', prot & 2 ? 'PROT_WRITE' : ''].filter(Boolean).join('|');
}

/** readBegin for any thread: wait out a running invalidation, return the even count. */
export function waitReadBegin(header: Int32Array): number {
  for (;;) {
    const s = Atomics.load(header, H_SEQ);
    if ((s & 1) === 0) return s;
    Atomics.wait(header, H_SEQ, s, 10);
  }
}
