import { Counter, bump } from '../stats.js';
import { M_DOMAIN, MR_STRIDE } from '../shared/layout.js';
import { stillValid } from '../mr/table.js';
import {
  faultIn, lockRegions, translateInto, unlockRegions, type PhysicalRun, type RegionAccess,
} from './region-access.js';

export type { PhysicalRun } from './region-access.js';

export type CopyOutcome =
  | { readonly ok: true; readonly faultChunks: number }
  | { readonly ok: false; readonly side: 'src' | 'dst'; readonly why: 'segv' | 'revoked' };

/** The outcome of almost every copy, made once. */
const COPIED: CopyOutcome = Object.freeze({ ok: true, faultChunks: 0 });

// The translations of the copy under way, reused by the next (a copy never starts inside another, and
// nothing keeps them past it): an eager message's copy allocates nothing.
const srcRuns: PhysicalRun[] = [];
const dstRuns: PhysicalRun[] = [];

/**
 * One side of a copy that is not a memory region: bytes already off the wire, or a buffer to ship
 * (the network wire's half of a transfer whose other half is in another process).
 */
export interface WireBytes {
  bytes: Uint8Array;
}

/** Bytes that came off a socket in pieces, read as one run (the source of a copy only). */
export interface WireParts {
  parts: readonly Uint8Array[];
}

type Side = RegionAccess | WireBytes;

/**
 * Move `src.length` bytes from src's region to dst's, as the HCA's DMA engine would: both MRs
 * locked for the copy (an ODP invalidation of either waits for it to finish, as
 * invalidate_range_start waits for the device), translations taken under the locks, network
 * page faults taken with the locks dropped. Counts one odpFault per side that faulted.
 * Either side may be WireBytes instead (the network wire's local half); it is never locked.
 * `beforeBytes(faultChunks)` runs once the copy is certain to succeed, under the locks, just before
 * the bytes move: what the outcome decides (a transfer's times) can be fixed while the copy, the
 * long part, is still to come. It must not start another copy (the translations are reused).
 */
export function dmaCopy(src: Side | WireParts, dst: Side, chunkBytes: number, beforeBytes?: (faultChunks: number) => void): CopyOutcome {
  const rs = isRegion(src) ? src : undefined;
  const rd = isRegion(dst) ? dst : undefined;
  // Allocated on the first fault only: the common case (resident pages) allocates nothing here.
  let faulted: { src: Set<number>; dst: Set<number> } | undefined;
  for (;;) {
    lockSides(rs, rd);
    if (rs !== undefined && !stillValid(rs.state, rs.slot, rs.key, rs.which)) {
      unlockSides(rs, rd);
      return { ok: false, side: 'src', why: 'revoked' };
    }
    if (rd !== undefined && !stillValid(rd.state, rd.slot, rd.key, rd.which)) {
      unlockSides(rs, rd);
      return { ok: false, side: 'dst', why: 'revoked' };
    }
    const haveSrc = rs === undefined ? (srcRuns.length = 0, true) : translateInto(rs, srcRuns);
    const haveDst = rd === undefined ? wholeBuffer(dst as WireBytes, dstRuns) : translateInto(rd, dstRuns);
    if (haveSrc && haveDst) {
      const faultChunks = faulted === undefined ? 0 : countFaults(rs, faulted.src) + countFaults(rd, faulted.dst);
      beforeBytes?.(faultChunks);
      const to = rd === undefined ? (dst as WireBytes).bytes : rd.memory.bytes;
      if (rs !== undefined) copyRuns(rs.memory.bytes, srcRuns, to, dstRuns);
      else if ('parts' in src) copyParts(src.parts, to, dstRuns);
      else copyParts([(src as WireBytes).bytes], to, dstRuns);
      unlockSides(rs, rd);
      return faultChunks === 0 ? COPIED : { ok: true, faultChunks };
    }
    unlockSides(rs, rd);
    faulted ??= { src: new Set<number>(), dst: new Set<number>() };
    for (const [side, have, a] of [['src', haveSrc, rs], ['dst', haveDst, rd]] as const) {
      if (have || a === undefined) continue;
      const r = faultIn(a, chunkBytes, a.addr);
      if (r === 'segv' || r === 'revoked') {
        countFaults(rs, faulted.src);
        countFaults(rd, faulted.dst);
        return { ok: false, side, why: r };
      }
      for (const c of r.chunks) faulted[side].add(c);
    }
  }
}

function isRegion(s: Side | WireParts): s is RegionAccess {
  return (s as RegionAccess).state !== undefined;
}

function wholeBuffer(b: WireBytes, out: PhysicalRun[]): true {
  out.length = 1;
  out[0] = { offset: 0, length: b.bytes.length };
  return true;
}

function lockSides(x: RegionAccess | undefined, y: RegionAccess | undefined): void {
  if (x !== undefined) lockRegions(x, y);
  else if (y !== undefined) lockRegions(y, undefined);
}

function unlockSides(x: RegionAccess | undefined, y: RegionAccess | undefined): void {
  if (x !== undefined) unlockRegions(x, y);
  else if (y !== undefined) unlockRegions(y, undefined);
}

/** Charge the faults of one side of one request to its MR's domain; returns the chunks that faulted. */
function countFaults(a: RegionAccess | undefined, chunks: Set<number>): number {
  if (a === undefined || chunks.size === 0) return 0;
  bump(a.state.counters, a.state.mrs[a.slot * MR_STRIDE + M_DOMAIN]!, Counter.odpFaults);
  return chunks.size;
}

/** Copy pieces, read as one run, into a scatter list of the same total length. */
function copyParts(parts: readonly Uint8Array[], to: Uint8Array, dst: PhysicalRun[]): void {
  let pi = 0;
  let po = 0;
  for (const d of dst) {
    let done = 0;
    while (done < d.length) {
      const p = parts[pi]!;
      const n = Math.min(p.length - po, d.length - done);
      to.set(p.subarray(po, po + n), d.offset + done);
      done += n;
      po += n;
      if (po === p.length) {
        pi++;
        po = 0;
      }
    }
  }
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
    copyBytes(from, s.offset + so, to, d.offset + dOff, n);
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

/**
 * `n` bytes of `from` at `at` into `to` at `into`. A few bytes (an eager message's envelope and
 * payload) byte by byte, since subarray() allocates a view per piece; one memory (both sides on one
 * node) with copyWithin, which allocates nothing either (memmove: overlapping runs are fine).
 */
function copyBytes(from: Uint8Array, at: number, to: Uint8Array, into: number, n: number): void {
  if (n <= SMALL_COPY) {
    // backwards when the target overlaps the source from above (one memory), as memmove
    if (into > at && from.buffer === to.buffer) for (let i = n - 1; i >= 0; i--) to[into + i] = from[at + i]!;
    else for (let i = 0; i < n; i++) to[into + i] = from[at + i]!;
  } else if (from === to) {
    to.copyWithin(into, at, at + n);
  } else {
    to.set(from.subarray(at, at + n), into);
  }
}

const SMALL_COPY = 128;
