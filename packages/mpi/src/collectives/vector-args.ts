import { InvalidArgument, InvalidBuffer } from '../errors.js';
import type { Buffer } from './types.js';

/** Per-rank block layout of a v-collective, in elements: block i is [displs[i], displs[i] + counts[i]). */
/** Counts or displacements in elements, one per rank (null: displacements packed in rank order). */
export type Counts = readonly number[] | null | undefined;

export interface Layout {
  counts: readonly number[];
  displs: readonly number[];
}

/**
 * Checks counts (and displacements; packed in rank order when omitted) for `p` ranks against the
 * buffer they cut, before any traffic, so no rank is left waiting for one that threw.
 */
export function layout(
  name: string, what: string, p: number, counts: readonly number[] | null | undefined,
  displs: readonly number[] | null | undefined, buf: Buffer,
): Layout {
  if (!Array.isArray(counts) || counts.length !== p) {
    throw new InvalidArgument(`${what} counts`, `${name}: pass ${p} counts (one per rank, in elements), got ${Array.isArray(counts) ? `${counts.length}` : typeof counts}`);
  }
  for (const c of counts) {
    if (!Number.isSafeInteger(c) || c < 0) throw new InvalidArgument(`${what} counts`, `${name}: counts must be integers >= 0, got ${String(c)}`);
  }
  let d: readonly number[];
  if (displs === null || displs === undefined) {
    const packed: number[] = [];
    let at = 0;
    for (const c of counts) {
      packed.push(at);
      at += c;
    }
    d = packed;
  } else {
    if (!Array.isArray(displs) || displs.length !== p) {
      throw new InvalidArgument(`${what} displs`, `${name}: pass ${p} displacements (in elements) or none for packed blocks, got ${Array.isArray(displs) ? displs.length : typeof displs}`);
    }
    d = displs;
  }
  for (let i = 0; i < p; i++) {
    const at = d[i]!;
    if (!Number.isSafeInteger(at) || at < 0 || at + counts[i]! > buf.count) {
      throw new InvalidBuffer(`${name}: block ${i} of the ${what} buffer ([${String(at)}, ${String(at + counts[i]!)}) elements) lies outside its ${buf.count} elements; size the buffer to hold every block`);
    }
  }
  return { counts, displs: d };
}

/** Block i of `buf` under `l`. */
export function block(buf: Buffer, l: Layout, i: number): Buffer {
  return buf.subarray(l.displs[i]!, l.displs[i]! + l.counts[i]!);
}
