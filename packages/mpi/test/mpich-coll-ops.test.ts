/**
 * MPICH test/mpi/coll op_commutative, reduce_local, opland/oplor/oplxor/opb*, uoplong and the
 * non-commutative reductions, in spirit (programs/coll-ops.ts): on 1, 3, 5 and 8 ranks, on one
 * node and on two. Every rank checks its results element by element; a non-commutative op must
 * come out in rank order at every root, and reduce at a root other than 0 takes the rank-order tree.
 */
import { describe, expect, it } from 'vitest';
import { runJob } from '../src/index.js';

const program = new URL('./programs/coll-ops.ts', import.meta.url);

describe('reduction operators (MPICH coll op*/uop*/reduce_local)', () => {
  for (const [np, nodes] of [[1, 1], [3, 2], [5, 1], [8, 2]] as const) {
    it(`predefined, logical and user ops, commutative or not, on ${np} ranks over ${nodes} node(s)`, async () => {
      const r = await runJob({ np, nodes, program });
      expect(r.error).toBeUndefined();
      for (const [i, rank] of r.ranks.entries()) {
        const v = rank.value as { wrong: string[]; errors: string[]; algorithms: Record<string, number> };
        expect({ rank: i, wrong: v.wrong }).toEqual({ rank: i, wrong: [] });
        expect(v.errors).toEqual(['freed: MPI_ERR_OP', 'free twice: MPI_ERR_OP', 'odd count: MPI_ERR_BUFFER']);
        // two sizes × the p - 1 roots other than 0 take the rank-order tree for the affine op
        expect(v.algorithms['reduce.binomialRankOrder'] ?? 0).toBe(np === 1 ? 0 : 2 * (np - 1));
        // the long non-commutative allreduce never takes Rabenseifner
        expect(v.algorithms['allreduce.rabenseifner'] ?? 0).toBe(0);
      }
    });
  }
});
