/**
 * Derived datatypes between ranks (programs/datatype-p2p.ts, after MPICH test/mpi/datatype's
 * transpose_pack, triangular_pack, tresized2, subarray, getpartelm and coll tests with datatypes):
 * every byte received checked against an oracle from the layout's definition, the gaps untouched,
 * typed errors for bad arguments — on 1, 2, 3 and 8 ranks, on one node and on two.
 */
import { describe, expect, it } from 'vitest';
import { runJob } from '../src/index.js';

const program = new URL('./programs/datatype-p2p.ts', import.meta.url);

describe('derived datatypes between ranks', () => {
  for (const [np, nodes] of [[1, 1], [2, 1], [3, 2], [8, 2]] as const) {
    it(`transpose, triangle, resized, subarray faces, partial elements and collectives on ${np} rank(s), ${nodes} node(s)`, async () => {
      const r = await runJob({ np, nodes, program });
      expect(r.error).toBeUndefined();
      for (const rank of r.ranks) expect((rank.value as { wrong: string[] }).wrong).toEqual([]);
    }, 600_000);
  }
});
