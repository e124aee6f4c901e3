import type { PhysicalMemory, RemoteAddressSpace } from '@tsmpi/vm';
import { backendOf, NEEDS_FAULT, type FaultResult } from '../backends/index.js';
import { lock, unlock } from '../shared/lock.js';
import { M_BACKING, M_LOCK, M_PAGES_AT, MF_FIRST_PAGE, MR_STRIDE, MRF_STRIDE } from '../shared/layout.js';
import type { AdapterState } from '../shared/state.js';

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
 * Translate under the MR lock, through the region's backend: pinning's frame snapshot taken at
 * registration (stale or not: that is the point), or ODP's own page table, where an empty entry
 * (or a read-only entry for a write) means a network page fault is needed first.
 */
export function translateLocked(a: RegionAccess): Translation {
  const out: PhysicalRun[] = [];
  return translateInto(a, out) ? out : { missing: true };
}

/**
 * translateLocked into `out`, reusing the run objects already there (`out.length` is set to the runs
 * found): false if a page is missing (then `out` holds nothing of use). What a DMA copy calls, so a
 * small message's copy allocates nothing.
 */
export function translateInto(a: RegionAccess, out: PhysicalRun[]): boolean {
  const row = a.slot * MR_STRIDE;
  const mrs = a.state.mrs;
  const ps = a.memory.pageSize;
  const first = a.state.mrsF64[a.slot * MRF_STRIDE + MF_FIRST_PAGE]!;
  const pages = a.state.arena.i32;
  const base = mrs[row + M_PAGES_AT]! * 2;
  const backend = backendOf(mrs[row + M_BACKING]!);
  let n = 0;
  let last: PhysicalRun | undefined;
  let at = a.addr;
  let left = a.length;
  while (left > 0) {
    const off = at % ps;
    const chunk = Math.min(ps - off, left);
    const frame = backend.frameOf(pages[base + (at - off - first) / ps]!, a.write);
    if (frame === NEEDS_FAULT) {
      out.length = 0;
      return false;
    }
    const offset = frame * ps + off;
    if (last !== undefined && last.offset + last.length === offset) last.length += chunk;
    else {
      last = out[n];
      if (last === undefined) out.push((last = { offset, length: chunk }));
      else {
        last.offset = offset;
        last.length = chunk;
      }
      n++;
    }
    at += chunk;
    left -= chunk;
  }
  out.length = n;
  return true;
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

/** A network page fault over `a`'s range, taken by its region's backend. Never called with an MR lock held. */
export function faultIn(a: RegionAccess, chunkBytes: number, requestAddr: number): FaultResult {
  return backendOf(a.state.mrs[a.slot * MR_STRIDE + M_BACKING]!).fault(a, chunkBytes, requestAddr);
}
