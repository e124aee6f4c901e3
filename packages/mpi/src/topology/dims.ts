import { InvalidArgument } from '../errors.js';

/**
 * MPI_Dims_create: a balanced grid of `nnodes` ranks. `dims` gives the number of dimensions (a
 * count, or an array whose nonzero entries are fixed and whose zeros are to be filled); the
 * free entries get the factorization of nnodes / (product of the fixed ones) whose largest and
 * smallest factors are closest, in non-increasing order. Returns a new array.
 */
export function computeDims(nnodes: number, dims: number | readonly number[]): number[] {
  if (!Number.isSafeInteger(nnodes) || nnodes < 1) throw new InvalidArgument('nnodes', `computeDims: expected an integer >= 1, got ${String(nnodes)}`);
  const given = typeof dims === 'number' ? new Array<number>(checkNdims(dims)).fill(0) : [...dims];
  if (!Array.isArray(dims) && typeof dims !== 'number') throw new InvalidArgument('dims', 'computeDims: pass a number of dimensions or an array of dimensions (0 = free)');
  let fixed = 1;
  for (const d of given) {
    if (!Number.isSafeInteger(d) || d < 0) throw new InvalidArgument('dims', `computeDims: dimensions must be integers >= 0 (0 = free), got ${String(d)}`);
    if (d > 0) fixed *= d;
  }
  const free = given.filter((d) => d === 0).length;
  if (nnodes % fixed !== 0 || (free === 0 && fixed !== nnodes)) {
    throw new InvalidArgument('dims', `computeDims: ${nnodes} ranks cannot fill a grid whose fixed dimensions multiply to ${fixed}; fix fewer dimensions or use a multiple of ${fixed}`);
  }
  const filled = balanced(nnodes / fixed, free);
  let next = 0;
  return given.map((d) => (d === 0 ? filled[next++]! : d));
}

function checkNdims(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgument('dims', `computeDims: expected a number of dimensions >= 0, got ${String(n)}`);
  return n;
}

/** The non-increasing factorization of m into k factors with the smallest spread (max - min). */
function balanced(m: number, k: number): number[] {
  if (k === 0) return [];
  const divisors = divisorsOf(m); // ascending
  let best: number[] | undefined;
  const walk = (rest: number, slots: number, cap: number, acc: number[]) => {
    if (slots === 1) {
      if (rest > cap) return;
      const cand = [...acc, rest];
      if (!best || cand[0]! - rest < best[0]! - best[best.length - 1]!) best = cand;
      return;
    }
    // the largest remaining factor is at least the slots-th root of what is left
    for (let i = divisors.length - 1; i >= 0; i--) {
      const d = divisors[i]!;
      if (d ** slots < rest) break;
      if (d <= cap && rest % d === 0) walk(rest / d, slots - 1, d, [...acc, d]);
    }
  };
  walk(m, k, m, []);
  return best!;
}

function divisorsOf(m: number): number[] {
  const small: number[] = [];
  const large: number[] = [];
  for (let d = 1; d * d <= m; d++) {
    if (m % d !== 0) continue;
    small.push(d);
    if (d * d !== m) large.push(m / d);
  }
  return [...small, ...large.reverse()];
}
