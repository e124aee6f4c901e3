import { lockMutex, unlockMutex } from './mutex.js';
import { PteState, pteCow, pteIndex, pteState, withCow, withState } from './pte.js';
import type { PhysicalMemory } from './physical-memory.js';
import { H_COW_COPIES, H_COW_FAULTS, H_COW_LOCK, H_LOST_RACES, H_SEQ } from './space-header.js';

/**
 * The copy-on-write fault (Linux do_wp_page): a write to a PRESENT page whose entry carries the
 * cow bit (fork.ts set it). Returns the frame the write may now use.
 *
 *   reuse  the frame has no other mapping and no pin (page_count == 1, Linux 5.8+): clear the
 *          bit, keep the frame. Nothing anyone translated changes, so nothing is invalidated.
 *   copy   otherwise: copy the page to a fresh frame, switch the entry to it by compare-and-swap,
 *          drop this space's reference on the old frame. A pinned frame is always copied: the
 *          pin keeps the old frame, so an adapter that pinned it keeps reading the old bytes
 *          (the stale registration of seed 001 when fork shared a pinned page).
 *
 * Safe from any thread, like faultPage: a loser of the compare-and-swap gives its frame back and
 * looks again. The owner runs a copy inside an invalidation (space-state.ts: the sequence is odd,
 * the notifier hears a 'cow' event). Another thread cannot call the owner's subscribers, so after
 * its copy it moves the sequence on by 2 — never odd, but every reader that began before sees
 * readRetry true — and holds the space's COW lock so that a fork running on the owner thread never
 * shares a frame this copy is putting (the owner holds it for the whole fork).
 */
export function breakCow(memory: PhysicalMemory, pt: Int32Array, header: Int32Array, page: number, remote: boolean): number {
  if (remote) lockMutex(header, H_COW_LOCK);
  try {
    return breakCowLocked(memory, pt, header, page, remote);
  } finally {
    if (remote) unlockMutex(header, H_COW_LOCK);
  }
}

function breakCowLocked(memory: PhysicalMemory, pt: Int32Array, header: Int32Array, page: number, remote: boolean): number {
  const ps = memory.pageSize;
  for (;;) {
    const e = Atomics.load(pt, page);
    // someone broke it first, or the page went: the caller's fault path looks again
    if (pteState(e) !== PteState.PRESENT || !pteCow(e)) return -1;
    const old = pteIndex(e);
    if (memory.mapCount(old) === 1 && memory.pinCount(old) === 0) {
      if (Atomics.compareExchange(pt, page, e, withCow(e, false)) !== e) continue;
      Atomics.add(header, H_COW_FAULTS, 1);
      return old;
    }
    const f = memory.allocFrame();
    memory.bytes.copyWithin(f * ps, old * ps, (old + 1) * ps);
    if (Atomics.compareExchange(pt, page, e, withState(e, PteState.PRESENT, f)) !== e) {
      memory.putFrame(f);
      Atomics.add(header, H_LOST_RACES, 1);
      continue;
    }
    memory.putFrame(old);
    Atomics.add(header, H_COW_FAULTS, 1);
    Atomics.add(header, H_COW_COPIES, 1);
    if (remote) Atomics.add(header, H_SEQ, 2);
    return f;
  }
}

/** Owner thread, under the COW lock for the whole fork: no other thread breaks COW in this space meanwhile. */
export function lockForFork(header: Int32Array): () => void {
  lockMutex(header, H_COW_LOCK);
  return () => unlockMutex(header, H_COW_LOCK);
}
