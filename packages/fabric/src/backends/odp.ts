import { SegmentationFault } from '@tsmpi/vm';
import type { RegionAccess } from '../dma/region-access.js';
import { stillValid } from '../mr/table.js';
import { lock, unlock } from '../shared/lock.js';
import { M_DOMAIN, M_LOCK, M_PAGES_AT, MF_FIRST_PAGE, MR_STRIDE, MRF_STRIDE, MrBacking, PAGE_EMPTY } from '../shared/layout.js';
import { Counter, bump } from '../stats.js';
import { NEEDS_FAULT, type FaultResult, type MemoryBackend } from './backend.js';

/**
 * On-demand paging: registration pins nothing and the domain subscribes to the address space's
 * mmu notifier. Each MR has its own page table, filled by network page faults with the
 * read-begin / retry rule and emptied by the notifier; migration and reclaim succeed.
 */
export const odp: MemoryBackend = {
  name: 'odp',
  code: MrBacking.ODP,
  priceAs: 'odp',
  heldPagesCounter: undefined,
  onDemand: true,
  register(r) {
    r.entries.fill(PAGE_EMPTY, r.base, r.base + r.pages);
  },
  deregister() {
    // Nothing pinned, nothing locked; the domain's notifier subscription outlives the region.
  },
  frameOf(entry, write) {
    // Writable only when faulted for a write: a write through a read-faulted entry faults again.
    return entry === PAGE_EMPTY || (write && (entry & 1) === 0) ? NEEDS_FAULT : entry >> 1;
  },
  fault: faultIn,
  invalidate(state, region, start, end, pageSize) {
    const lo = Math.max(start, region.firstPage);
    const hi = Math.min(end, region.firstPage + region.mr.pages * pageSize);
    if (lo >= hi) return 0;
    const row = region.slot * MR_STRIDE;
    const mrs = state.mrs;
    const entries = state.arena.i32;
    const base = mrs[row + M_PAGES_AT]! * 2;
    let zapped = 0;
    lock(mrs, row + M_LOCK);
    for (let p = Math.floor((lo - region.firstPage) / pageSize); p < Math.ceil((hi - region.firstPage) / pageSize); p++) {
      if (entries[base + p] !== PAGE_EMPTY) {
        Atomics.store(entries, base + p, PAGE_EMPTY);
        zapped++;
      }
    }
    unlock(mrs, row + M_LOCK);
    return zapped;
  },
};

/**
 * A network page fault (ib_umem_odp_map_dma_and_lock + hmm_range_fault): resolve the missing
 * pages through the owner's page table with the read-begin / retry rule, then install them
 * under the MR lock unless an invalidation ran in between (then start over). Never called with
 * an MR lock held: readBegin may wait for the owner, whose invalidation may wait for our lock.
 */
function faultIn(a: RegionAccess, chunkBytes: number, requestAddr: number): FaultResult {
  const row = a.slot * MR_STRIDE;
  const mrs = a.state.mrs;
  const ps = a.memory.pageSize;
  const first = a.state.mrsF64[a.slot * MRF_STRIDE + MF_FIRST_PAGE]!;
  const pages = a.state.arena.i32;
  const base = mrs[row + M_PAGES_AT]! * 2;
  const startPage = Math.floor(a.addr / ps);
  const endPage = Math.ceil((a.addr + a.length) / ps);
  const access = a.write ? 'write' : 'read';
  for (;;) {
    const seq = a.space.readBegin();
    const found: Array<[index: number, entry: number]> = [];
    const chunks = new Set<number>();
    try {
      for (let p = startPage; p < endPage; p++) {
        const i = p - first / ps;
        const e = Atomics.load(pages, base + i);
        if (e !== PAGE_EMPTY && (!a.write || (e & 1) === 1)) continue;
        const frame = a.space.fault(p * ps, access);
        found.push([i, frame * 2 + (a.write ? 1 : 0)]);
        chunks.add(Math.floor((Math.max(p * ps, a.addr) - requestAddr) / chunkBytes));
      }
    } catch (e) {
      if (e instanceof SegmentationFault) return 'segv';
      throw e;
    }
    lock(mrs, row + M_LOCK);
    if (!stillValid(a.state, a.slot, a.key, a.which)) {
      unlock(mrs, row + M_LOCK);
      return 'revoked';
    }
    if (a.space.readRetry(seq)) {
      unlock(mrs, row + M_LOCK);
      continue;
    }
    for (const [i, entry] of found) Atomics.store(pages, base + i, entry);
    unlock(mrs, row + M_LOCK);
    if (found.length > 0) {
      const d = mrs[row + M_DOMAIN]!;
      bump(a.state.counters, d, Counter.odpFaultPages, found.length);
    }
    return { pages: found.length, chunks };
  }
}
