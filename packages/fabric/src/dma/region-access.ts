import { SegmentationFault, type PhysicalMemory, type RemoteAddressSpace } from '@tsmpi/vm';
import { lock, unlock } from '../shared/lock.js';
import {
  M_BACKING, M_DOMAIN, M_LOCK, M_PAGE_COUNT, M_PAGES_AT, MF_FIRST_PAGE, MR_STRIDE, MRF_STRIDE, MrBacking, PAGE_EMPTY,
} from '../shared/layout.js';
import type { AdapterState } from '../shared/state.js';
import { Counter, bump } from '../stats.js';
import { stillValid } from '../mr/table.js';

/**
 * One side of a DMA: a checked key's MR and the range it touches. `space` is the owner's
 * page table seen from this thread (ODP translates and faults through it).
 */
export interface RegionAccess {
  state: AdapterState;
  memory: PhysicalMemory;
  space: RemoteAddressSpace;
  nodeId: number;
  slot: number;
  key: number;
  which: 'lkey' | 'rkey';
  addr: number;
  length: number;
  /** The DMA writes this side (receive target, RDMA write target, RDMA read destination). */
  write: boolean;
}

export interface PhysicalRun {
  offset: number;
  length: number;
}

/** Runs of physical memory, or which page is missing from an ODP page table. */
export type Translation = PhysicalRun[] | { missing: true };

/**
 * Translate under the MR lock. pinning: the frame snapshot taken at registration (stale or
 * not: that is the point). odp: the MR's own page table; an empty entry (or a read-only entry
 * for a write) means a network page fault is needed first.
 */
export function translateLocked(a: RegionAccess): Translation {
  const row = a.slot * MR_STRIDE;
  const mrs = a.state.mrs;
  const ps = a.memory.pageSize;
  const first = a.state.mrsF64[a.slot * MRF_STRIDE + MF_FIRST_PAGE]!;
  const pages = a.state.arena.i32;
  const base = mrs[row + M_PAGES_AT]! * 2;
  const odp = mrs[row + M_BACKING] === MrBacking.ODP;
  const out: PhysicalRun[] = [];
  let last: PhysicalRun | undefined;
  let at = a.addr;
  let left = a.length;
  while (left > 0) {
    const off = at % ps;
    const chunk = Math.min(ps - off, left);
    const e = pages[base + (at - off - first) / ps]!;
    let frame: number;
    if (odp) {
      if (e === PAGE_EMPTY || (a.write && (e & 1) === 0)) return { missing: true };
      frame = e >> 1;
    } else {
      frame = e;
    }
    const offset = frame * ps + off;
    if (last !== undefined && last.offset + last.length === offset) last.length += chunk;
    else out.push((last = { offset, length: chunk }));
    at += chunk;
    left -= chunk;
  }
  return out;
}

/** Outcome of filling an ODP MR's page table for a range. */
export type FaultResult = { pages: number; chunks: Set<number> } | 'segv' | 'revoked';

/**
 * A network page fault (ib_umem_odp_map_dma_and_lock + hmm_range_fault): resolve the missing
 * pages through the owner's page table with the read-begin / retry rule, then install them
 * under the MR lock unless an invalidation ran in between (then start over). Never called with
 * an MR lock held: readBegin may wait for the owner, whose invalidation may wait for our lock.
 */
export function faultIn(a: RegionAccess, chunkBytes: number, requestAddr: number): FaultResult {
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
        // Writable only when faulted for a write: a later write to a read-faulted page faults again.
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

export function lockRegions(x: RegionAccess, y: RegionAccess | undefined): void {
  if (y === undefined || sameRegion(x, y)) return lock(x.state.mrs, x.slot * MR_STRIDE + M_LOCK);
  const [a, b] = order(x, y);
  lock(a.state.mrs, a.slot * MR_STRIDE + M_LOCK);
  lock(b.state.mrs, b.slot * MR_STRIDE + M_LOCK);
}

export function unlockRegions(x: RegionAccess, y: RegionAccess | undefined): void {
  unlock(x.state.mrs, x.slot * MR_STRIDE + M_LOCK);
  if (y !== undefined && !sameRegion(x, y)) unlock(y.state.mrs, y.slot * MR_STRIDE + M_LOCK);
}

function sameRegion(x: RegionAccess, y: RegionAccess): boolean {
  return x.nodeId === y.nodeId && x.slot === y.slot;
}

/** Lock order: (node, slot) ascending, so two DMAs over the same pair of MRs cannot deadlock. */
function order(x: RegionAccess, y: RegionAccess): [RegionAccess, RegionAccess] {
  if (x.nodeId !== y.nodeId) return x.nodeId < y.nodeId ? [x, y] : [y, x];
  return x.slot < y.slot ? [x, y] : [y, x];
}

export function backingOf(state: AdapterState, slot: number): number {
  return state.mrs[slot * MR_STRIDE + M_BACKING]!;
}

export function pageCountOf(state: AdapterState, slot: number): number {
  return state.mrs[slot * MR_STRIDE + M_PAGE_COUNT]!;
}
