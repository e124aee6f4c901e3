/**
 * Topologies: computeDims against MPI_Dims_create's contract (MPICH topo/dims1 in spirit), and
 * Cartesian communicators on 8 real ranks (programs/topo.ts): coordinates, shifts with PROC_NULL at
 * non-periodic edges, sub-grids, the neighbourhood collectives.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgument, computeDims, runJob } from '../src/index.js';

describe('computeDims (MPI_Dims_create)', () => {
  it('balances free dimensions, in non-increasing order, around the fixed ones', () => {
    expect(computeDims(6, 2)).toEqual([3, 2]);
    expect(computeDims(8, 2)).toEqual([4, 2]);
    expect(computeDims(12, 3)).toEqual([3, 2, 2]);
    expect(computeDims(16, 4)).toEqual([2, 2, 2, 2]);
    expect(computeDims(16, 3)).toEqual([4, 2, 2]);
    expect(computeDims(24, 2)).toEqual([6, 4]);
    expect(computeDims(36, 2)).toEqual([6, 6]);
    expect(computeDims(7, 3)).toEqual([7, 1, 1]);
    expect(computeDims(1, 2)).toEqual([1, 1]);
    expect(computeDims(64, 3)).toEqual([4, 4, 4]);
    expect(computeDims(30, [0, 5, 0])).toEqual([3, 5, 2]);
    expect(computeDims(12, [2, 0, 3])).toEqual([2, 2, 3]);
    expect(computeDims(12, [2, 6])).toEqual([2, 6]);
    expect(computeDims(1, 0)).toEqual([]);
    expect(computeDims(1000 ** 3, 3)).toEqual([1000, 1000, 1000]); // MPICH topo/dims4
    for (let n = 1; n <= 32; n *= 2) expect(computeDims(n, [0, n])).toEqual([1, n]); // dims2's edge cases
    expect(computeDims(2 ** 20, 4)).toEqual([32, 32, 32, 32]);
    for (let n = 1; n <= 64; n++) {
      for (let k = 1; k <= 4; k++) {
        const d = computeDims(n, k);
        expect(d.reduce((a, b) => a * b, 1)).toBe(n);
        expect([...d].sort((a, b) => b - a)).toEqual(d);
      }
    }
  });

  it('rejects a grid the fixed dimensions cannot make', () => {
    expect(() => computeDims(10, [3, 0])).toThrow(InvalidArgument);
    expect(() => computeDims(12, [2, 3])).toThrow(/multiply to 6/);
    expect(() => computeDims(0, 2)).toThrow(InvalidArgument);
    expect(() => computeDims(5, 0)).toThrow(InvalidArgument);
    expect(() => computeDims(4, [-1, 0])).toThrow(InvalidArgument);
  });
});

describe('Cartesian communicators', () => {
  it('coords, rankOf, shift (cartshift1), sub (cartsuball) and the neighbourhood collectives on 8 ranks', async () => {
    const r = await runJob({ np: 8, program: new URL('./programs/topo.ts', import.meta.url) });
    expect(r.error).toBeUndefined();
    const v = r.ranks.map((x) => x.value as { rank: number; wrong: string[]; rings: number[][]; part: number[] | null; tooBig: string });
    for (const x of v) expect({ rank: x.rank, wrong: x.wrong }).toEqual({ rank: x.rank, wrong: [] });
    // ring of 2: the block from below is the one the neighbour sent up, and the reverse
    expect(v[0]!.rings[0]).toEqual([11, 10]);
    expect(v[1]!.rings[0]).toEqual([1, 0]);
    // ring of 1: rank 0 gets its own blocks, crossed
    expect(v[0]!.rings[1]).toEqual([1, 0]);
    expect(v[2]!.rings).toEqual([]);
    expect(v.map((x) => x.part)).toEqual([[6, 0], [6, 1], [6, 2], [6, 3], [6, 4], [6, 5], null, null]);
    expect(v.map((x) => x.tooBig)).toEqual(new Array(8).fill('MPI_ERR_ARG'));
  });
});
