import { describe, expect, it } from 'vitest';
import { CONGRUENT, IDENT, SIMILAR, UNDEFINED, UNEQUAL, PROC_NULL, runJob } from '../src/index.js';

const program = new URL('./programs/comm-groups.ts', import.meta.url);
const range = (n: number) => [...Array(n).keys()];

describe('groups (MPICH test/mpi/group in spirit)', () => {
  for (const np of [1, 3, 8]) {
    it(`incl/excl/ranges/union/intersection/difference/translateRanks/compare on ${np} ranks`, async () => {
      const r = await runJob({ np, program });
      expect(r.error).toBeUndefined();
      const evens = range(np).filter((x) => x % 2 === 0);
      const odds = range(np).filter((x) => x % 2 === 1);
      for (const [me, x] of r.ranks.map((v, i) => [i, v.value as any] as const)) {
        expect(x.world).toEqual({ size: np, rank: me, world: range(np) });
        const others = range(np).filter((w) => w !== me).slice(0, 2);
        expect(x.incl).toEqual({ size: 1 + others.length, rank: 0, world: [me, ...others] });
        expect(x.excl).toEqual({ size: np - 1, rank: UNDEFINED, world: range(np).filter((w) => w !== me) });
        expect(x.evens).toEqual({ size: evens.length, rank: me % 2 ? UNDEFINED : me / 2, world: evens });
        expect(x.down).toEqual({ size: np, rank: np - 1 - me, world: range(np).reverse() });
        expect(x.notEvens.world).toEqual(odds);
        expect(x.union.world).toEqual([...evens, ...odds]);
        expect(x.inter.world).toEqual([...evens].reverse());
        expect(x.diff.world).toEqual(odds);
        expect(x.toSelf).toEqual([PROC_NULL, ...range(np).map((w) => (w === me ? 0 : UNDEFINED)), PROC_NULL]);
        expect(x.compare).toEqual({
          sameOrder: IDENT,
          reordered: np === 1 ? IDENT : SIMILAR,
          unionVsWorld: np <= 2 ? IDENT : SIMILAR,
          evensVsWorld: np === 1 ? IDENT : UNEQUAL,
          emptyIncl: IDENT,
          emptyDiff: IDENT,
          sharedNode: IDENT,
        });
        expect(x.empty).toEqual({ size: 0, rank: UNDEFINED, unionRank: me });
        expect(x.errors).toEqual({
          inclOutOfRange: 'MPI_ERR_GROUP', inclTwice: 'MPI_ERR_GROUP', exclNegative: 'MPI_ERR_GROUP',
          rangeZeroStride: 'MPI_ERR_ARG', rangeWrongWay: np === 1 ? 'no error' : 'MPI_ERR_GROUP', notAGroup: 'MPI_ERR_ARG',
        });
      }
      expect(CONGRUENT).toBe(1);
    });
  }
});
