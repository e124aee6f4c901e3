import { Counter, bump } from '../stats.js';
import { M_DOMAIN, MR_STRIDE } from '../shared/layout.js';
import { stillValid } from '../mr/table.js';
import {
  faultIn, lockRegions, translateLocked, unlockRegions, type PhysicalRun, type RegionAccess,
} from './region-access.js';

export type { PhysicalRun } from './region-access.js';

export type CopyOutcome =
  | { ok: true; faultChunks: number }
  | { ok: false; side: 'src' | 'dst'; why: 'segv' | 'revoked' };

/**
 * Move `src.length` bytes from src's region to dst's, as the HCA's DMA engine would: both MRs
 * locked for the copy (an ODP invalidation of either waits for it to finish, as
 * invalidate_range_start waits for the device), translations taken under the locks, network
 * page faults taken with the locks dropped. Counts one odpFault per side that faulted.
 */
export function dmaCopy(src: RegionAccess, dst: RegionAccess, chunkBytes: number): CopyOutcome {
  // Allocated on the first fault only: the common case (resident pages) allocates nothing here.
  let faulted: { src: Set<number>; dst: Set<number> } | undefined;
  for (;;) {
    lockRegions(src, dst);
    if (!stillValid(src.state, src.slot, src.key, src.which)) {
      unlockRegions(src, dst);
      return { ok: false, side: 'src', why: 'revoked' };
    }
    if (!stillValid(dst.state, dst.slot, dst.key, dst.which)) {
      unlockRegions(src, dst);
      return { ok: false, side: 'dst', why: 'revoked' };
    }
    const ts = translateLocked(src);
    const td = translateLocked(dst);
    if (Array.isArray(ts) && Array.isArray(td)) {
      copyRuns(src.memory.bytes, ts, dst.memory.bytes, td);
      unlockRegions(src, dst);
      return { ok: true, faultChunks: faulted === undefined ? 0 : countFaults(src, faulted.src) + countFaults(dst, faulted.dst) };
    }
    unlockRegions(src, dst);
    faulted ??= { src: new Set<number>(), dst: new Set<number>() };
    for (const [side, t, a] of [['src', ts, src], ['dst', td, dst]] as const) {
      if (Array.isArray(t)) continue;
      const r = faultIn(a, chunkBytes, a.addr);
      if (r === 'segv' || r === 'revoked') {
        countFaults(src, faulted.src);
        countFaults(dst, faulted.dst);
        return { ok: false, side, why: r };
      }
      for (const c of r.chunks) faulted[side].add(c);
    }
  }
}

/** Charge the faults of one side of one request to its MR's domain; returns the chunks that faulted. */
function countFaults(a: RegionAccess, chunks: Set<number>): number {
  if (chunks.size === 0) return 0;
  bump(a.state.counters, a.state.mrs[a.slot * MR_STRIDE + M_DOMAIN]!, Counter.odpFaults);
  return chunks.size;
}

/** Copy a gather list into a scatter list of the same total length (memories may differ or be one). */
export function copyRuns(from: Uint8Array, src: PhysicalRun[], to: Uint8Array, dst: PhysicalRun[]): void {
  let si = 0;
  let so = 0;
  let di = 0;
  let dOff = 0;
  while (si < src.length && di < dst.length) {
    const s = src[si]!;
    const d = dst[di]!;
    const n = Math.min(s.length - so, d.length - dOff);
    to.set(from.subarray(s.offset + so, s.offset + so + n), d.offset + dOff);
    so += n;
    dOff += n;
    if (so === s.length) {
      si++;
      so = 0;
    }
    if (dOff === d.length) {
      di++;
      dOff = 0;
    }
  }
}
