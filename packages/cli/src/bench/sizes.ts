/**
 * OSU's message-size sweep and its iteration counts.
 *
 * OSU Micro-Benchmarks sweep powers of two from 1 B to 4 MiB by default (we go to 16 MiB) and run
 * 10000 iterations + 1000 warm-up below LARGE_MESSAGE_SIZE (8 KiB), 1000 + 100 at and above it.
 * The simulator moves real bytes, so large messages cost real milliseconds; the counts are scaled
 * down with size so one cell stays within a bounded byte budget. Virtual time is deterministic, so
 * fewer iterations do not make the virtual figures noisier — they only bound the wall clock.
 */
import { UsageError, parseBytes } from '@tsmpi/mpi';
import { BenchUsageError } from './errors.js';

export const MIN_SIZE = 1;
export const MAX_SIZE = 16 * 1024 * 1024;
/** OSU's LARGE_MESSAGE_SIZE: at and above it the iteration counts drop. */
export const LARGE_MESSAGE_SIZE = 8 * 1024;

export interface IterationCounts {
  iterations: number;
  warmup: number;
}

/** Powers of two from min to max inclusive (min rounded up to a power of two; 0 is not swept). */
export function sizeSweep(min: number, max: number): number[] {
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max < min) {
    throw new BenchUsageError(`size range ${min}:${max} is not valid: give MIN:MAX with 1 <= MIN <= MAX (e.g. 1:16M)`);
  }
  const sizes: number[] = [];
  let s = 1;
  while (s < min) s *= 2;
  for (; s <= max; s *= 2) sizes.push(s);
  if (sizes.length === 0) {
    throw new BenchUsageError(`size range ${min}:${max} holds no power of two: widen it (e.g. 1:16M)`);
  }
  return sizes;
}

/**
 * A size in bytes, by the runtime's rule (@tsmpi/mpi parseBytes, the same as `tsmpi run --eager`):
 * K, M, G and KiB, MiB, GiB are binary, kB, MB, GB decimal ("4K" = 4096, "4kB" = 4000).
 */
export function parseSize(text: string, what = 'size'): number {
  let bytes: number;
  try {
    bytes = parseBytes(text, what);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    bytes = NaN;
  }
  if (!Number.isSafeInteger(bytes)) {
    throw new BenchUsageError(`${what} "${text}" is not a size: give whole bytes, or a number with K, M, G (binary) or kB, MB, GB (decimal), e.g. 64K`);
  }
  return bytes;
}

/** "MIN:MAX" (either side may be omitted: ":1M", "4K:") → [min, max]. */
export function parseSizeRange(text: string): [number, number] {
  const parts = text.split(':');
  if (parts.length !== 2) {
    throw new BenchUsageError(`--sizes "${text}" is not MIN:MAX: give e.g. 1:16M, 4K:1M or :64K`);
  }
  const min = parts[0] === '' ? MIN_SIZE : parseSize(parts[0]!, '--sizes');
  const max = parts[1] === '' ? MAX_SIZE : parseSize(parts[1]!, '--sizes');
  if (max > MAX_SIZE) {
    throw new BenchUsageError(`--sizes maximum ${max} is above ${MAX_SIZE} (16M), the largest size the study sweeps`);
  }
  sizeSweep(min, max); // validates
  return [min, max];
}

/** 1 → "1", 4096 → "4K", 16777216 → "16M": the short form used in tables and labels. */
export function formatSize(bytes: number): string {
  if (bytes >= 1024 ** 2 && bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2}M`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024}K`;
  return String(bytes);
}

/** Untimed iterations at least (see iterationCounts). */
export const MIN_WARMUP = 2;

/**
 * Iterations for one size. `iterations` (from --iterations) is the count for small messages; large
 * messages get fewer so that iterations × size stays under `byteBudget`, never below `floor`.
 * Warm-up is a tenth of the iterations, at least two — OSU's smallest skip (osu_bw's large-message
 * BW_SKIP_LARGE). The first touch and the first registration happen there, so the timed loop
 * measures the steady state the pattern produces; one iteration is not always enough for that: a
 * get that misses may merge regions that an earlier transfer of the same iteration has just used,
 * and the union is a new MR. Under ODP its page table starts empty over the part that moved through
 * the old MR, so the second warm-up iteration is the first to cross only settled MRs and takes
 * those network page faults instead of the first timed one.
 */
export function iterationCounts(size: number, iterations: number, byteBudget: number, floor = 2): IterationCounts {
  let it = size >= LARGE_MESSAGE_SIZE ? Math.max(1, Math.round(iterations / 10)) : iterations;
  it = Math.min(it, Math.max(floor, Math.floor(byteBudget / size)));
  it = Math.max(it, Math.min(floor, iterations));
  return { iterations: it, warmup: Math.max(MIN_WARMUP, Math.floor(it / 10)) };
}
