/**
 * Buffer patterns: how the benchmark's buffers move (or do not) under the registration cache.
 *
 * - reuse      one buffer per rank for the whole size (OSU's default; flatters every cache)
 * - rotate:N   N buffers per rank used in turn; with N above the cache's region limit the LRU
 *              evicts each region before it comes round again, so every message misses
 * - churn      free and malloc the buffer on both ranks every iteration; from the allocator's mmap
 *              threshold (128 KiB) up, free munmaps and the next malloc's mmap returns the same
 *              address on new frames — a cache that was not told hands out the old frames
 * - migrate:K  one buffer, and every K iterations the rank migrates its pages (compaction / NUMA
 *              balancing): a kernel-initiated change no library call announces
 * - fork:K     one buffer, and every K iterations the rank forks (the child lives until the next
 *              fork, as a helper process would) under the legacy fork policy (kernels before 5.12):
 *              the parent's next write to its buffer copies the page away from the frame its
 *              registration pinned (seed 001's other way a registration goes wrong)
 * - strided:M  one buffer twice the size, the message a strided vector in it (blocks of
 *              STRIDED_BLOCK_BYTES every other block, a derived datatype) on both ranks, sent with
 *              --noncontig M: pack (copy into one run, unpack at the receiver) or sge (the span
 *              registered, scatter/gather RDMA reads, no copy) — the study's non-contiguous case
 */
import { BenchUsageError } from './errors.js';

/** The study's fork case: fork every this many iterations (large sizes run only 3 in the short form). */
export const FORK_EVERY = 2;
/** strided:M: the vector's block; the gap after each block is as long. */
export const STRIDED_BLOCK_BYTES = 2048;
export type StridedMode = 'pack' | 'sge';

export type Pattern =
  | { kind: 'reuse' }
  | { kind: 'rotate'; buffers: number }
  | { kind: 'churn' }
  | { kind: 'migrate'; every: number }
  | { kind: 'fork'; every: number }
  | { kind: 'strided'; mode: StridedMode };

export function parsePattern(text: string): Pattern {
  const [name, arg, extra] = text.trim().split(':');
  const count = (what: string, dflt: number): number => {
    if (arg === undefined || arg === '') return dflt;
    const n = Number(arg);
    if (!Number.isInteger(n) || n < 1) {
      throw new BenchUsageError(`pattern "${text}": ${what} must be a positive integer (e.g. ${name}:${dflt})`);
    }
    return n;
  };
  if (extra !== undefined) throw new BenchUsageError(`pattern "${text}" has too many ':' parts: use reuse, rotate:N, churn, migrate:K, fork:K or strided:pack|sge`);
  switch (name) {
    case 'reuse':
      return { kind: 'reuse' };
    case 'churn':
      return { kind: 'churn' };
    case 'rotate':
      return { kind: 'rotate', buffers: count('N (buffers)', 16) };
    case 'migrate':
      return { kind: 'migrate', every: count('K (iterations between migrations)', 4) };
    case 'fork':
      return { kind: 'fork', every: count('K (iterations between forks)', 2) };
    case 'strided':
      if (arg === 'pack' || arg === 'sge') return { kind: 'strided', mode: arg };
      throw new BenchUsageError(`pattern "${text}": strided takes pack or sge (strided:pack, strided:sge)`);
    default:
      throw new BenchUsageError(`pattern "${text}" is unknown: use reuse, rotate:N, churn, migrate:K, fork:K or strided:pack|sge`);
  }
}

export function formatPattern(p: Pattern): string {
  switch (p.kind) {
    case 'reuse':
    case 'churn':
      return p.kind;
    case 'rotate':
      return `rotate:${p.buffers}`;
    case 'migrate':
      return `migrate:${p.every}`;
    case 'fork':
      return `fork:${p.every}`;
    case 'strided':
      return `strided:${p.mode}`;
  }
}

/** Buffers each rank holds at once under this pattern (the study sizes physical memory from it). */
export function buffersHeld(p: Pattern): number {
  return p.kind === 'rotate' ? p.buffers : p.kind === 'strided' ? 2 : 1;
}
