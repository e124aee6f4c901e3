import { lockForFork } from './cow.js';
import type { PhysicalMemory } from './physical-memory.js';
import { PteState, makePte, pteIndex, pteProt, pteState, withCow } from './pte.js';
import type { SpaceState } from './space-state.js';

/*
 * fork(): a child address space whose private pages share the parent's frames copy-on-write
 * (Linux copy_page_range / copy_present_pte).
 *
 *   parent before        parent after               child
 *   page a  → F (rw)     page a → F (cow)           page a → F (cow)      map count of F: 2
 *   page b  → P (rw, pinned by an adapter):
 *     'legacy'           page b → P (cow)           page b → P (cow)      the parent's next write
 *                                                                          copies it away from P:
 *                                                                          the adapter keeps P (stale)
 *     'copy-pinned'      page b → P (rw, unchanged) page b → P' (a copy)  Linux 5.12+ (page_maybe_dma_pinned)
 *   page c  untouched    page c untouched           page c untouched
 *   page d  swapped      page d swapped             page d in a swap slot of its own (or a frame, swap full)
 *   DONTFORK area        unchanged                  absent
 *
 * Each area the child gets runs as a 'protection' invalidation of the parent (Linux raises
 * MMU_NOTIFY_PROTECTION_PAGE over every copy-on-write area it copies): translations for write the
 * parent's adapters hold must go, or their writes would land in a frame the child now shares.
 * mlock is not inherited (mlock(2)); pins are not either, they stay the parent's.
 */
export function forkInto(parent: SpaceState, child: SpaceState): void {
  parent.checkAlive('fork');
  const ps = parent.pageSize;
  // no other thread breaks copy-on-write in the parent meanwhile: it could put a frame this fork is sharing
  const unlock = lockForFork(parent.table.header);
  try {
    child.brkCur = parent.brkCur;
    for (const v of [...parent.vmas.all()]) {
      if (v.dontfork) continue;
      child.vmas.insert({ ...v, locked: false });
      parent.invalidate(v.start, v.end, 'protection', 'fork', () => {
        for (let p = v.start / ps; p < v.end / ps; p++) forkPage(parent, child, p);
      });
    }
  } finally {
    unlock();
  }
  parent.counters.forks++;
}

function forkPage(parent: SpaceState, child: SpaceState, p: number): void {
  const memory = parent.memory;
  const ps = memory.pageSize;
  const into = child.table.entries;
  for (;;) {
    const e = Atomics.load(parent.table.entries, p);
    const prot = pteProt(e);
    const state = pteState(e);
    if (state === PteState.PRESENT) {
      const f = pteIndex(e);
      if (parent.forkPolicy === 'copy-pinned' && memory.pinCount(f) > 0) {
        const g = memory.allocFrame();
        memory.bytes.copyWithin(g * ps, f * ps, (f + 1) * ps);
        into[p] = makePte(PteState.PRESENT, prot, false, g);
        parent.counters.forkCopiedPages++;
        return;
      }
      // a PRESENT entry changes only on this thread, or by a COW break that the fork lock holds off
      memory.getFrame(f);
      parent.table.exchange(p, (x) => withCow(x, true));
      into[p] = withCow(makePte(PteState.PRESENT, prot, false, f), true);
      return;
    }
    if (state === PteState.SWAPPED) {
      const entry = copySwapped(memory, pteIndex(e), prot);
      // another thread may have swapped the page in (and freed the slot) while we copied: look again
      if (Atomics.load(parent.table.entries, p) === e) {
        into[p] = entry;
        return;
      }
      into[p] = entry;
      child.table.release(p * ps, (p + 1) * ps, () => 0); // gives the copy's slot or frame back
      continue;
    }
    into[p] = makePte(PteState.NOT_PRESENT, prot, false);
    return;
  }
}

/** The child's own copy of a swapped page: a swap slot of its own, or a frame when swap is full. */
function copySwapped(memory: PhysicalMemory, slot: number, prot: number): number {
  const ps = memory.pageSize;
  const mine = memory.allocSwapSlot();
  if (mine >= 0) {
    memory.swapBytes.copyWithin(mine * ps, slot * ps, (slot + 1) * ps);
    return makePte(PteState.SWAPPED, prot, false, mine);
  }
  const g = memory.allocFrame();
  memory.bytes.set(memory.swapBytes.subarray(slot * ps, (slot + 1) * ps), g * ps);
  return makePte(PteState.PRESENT, prot, false, g);
}
