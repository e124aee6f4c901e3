/**
 * MPI_IN_PLACE in every collective MPI allows it for (programs/coll-inplace.ts, after MPICH's coll
 * tests that pass MPI_IN_PLACE): blocking, nonblocking and persistent allreduce, reduce / gather /
 * scatter at every root, allgather, alltoall, reduceScatterBlock, scan, exscan at eager and
 * rendezvous sizes, and the v-forms; on 1, 2, 5 and 8 ranks, one node and two. IN_PLACE where MPI
 * forbids it is an InvalidBuffer (MPI_ERR_BUFFER) raised before any traffic.
 */
import { describe, expect, it } from 'vitest';
import { runJob } from '../src/index.js';

const program = new URL('./programs/coll-inplace.ts', import.meta.url);

describe('IN_PLACE collectives (MPICH coll, MPI_IN_PLACE)', () => {
  for (const [np, nodes] of [[1, 1], [2, 2], [5, 1], [8, 2]] as const) {
    it(`every allowed form on ${np} ranks over ${nodes} node(s); typed errors elsewhere`, async () => {
      const r = await runJob({ np, nodes, program });
      expect(r.error).toBeUndefined();
      for (const [i, rank] of r.ranks.entries()) {
        const v = rank.value as { wrong: string[]; errors: Record<string, string> };
        expect({ rank: i, wrong: v.wrong }).toEqual({ rank: i, wrong: [] });
        const forbidden = i === 0 && np > 1 ? ['reduce non-root', 'gather non-root', 'scatter non-root'] : [];
        expect(v.errors).toEqual(Object.fromEntries([...forbidden, 'allreduce rbuf', 'bcast'].map((k) => [k, 'MPI_ERR_BUFFER'])));
      }
    });
  }
});
