/**
 * MPICH test/mpi/pt2pt bsend1-5/bsendpending, isendrecv, isendrecv_replace, sendrecv_replace,
 * rqfree, rqstatus and waitany_null, and MPI_ERR_IN_STATUS, in spirit (programs/pt2pt-requests.ts):
 * on 1, 2, 4 and 7 ranks, on one node and on two. Every rank checks each byte it received.
 */
import { describe, expect, it } from 'vitest';
import { UNDEFINED, runJob } from '../src/index.js';

const program = new URL('./programs/pt2pt-requests.ts', import.meta.url);

describe('buffered sends, sendrecv forms, freed requests, getStatus, per-status errors (MPICH pt2pt)', () => {
  for (const [np, nodes] of [[1, 1], [2, 2], [4, 1], [7, 2]] as const) {
    it(`on ${np} ranks over ${nodes} node(s)`, async () => {
      const r = await runJob({ np, nodes, program });
      expect(r.error).toBeUndefined();
      for (const [i, rank] of r.ranks.entries()) {
        const v = rank.value as Record<string, unknown>;
        expect({ rank: i, wrong: v.wrong }).toEqual({ rank: i, wrong: [] });
        expect(v).toMatchObject({
          attachTwice: 'MPI_ERR_BUFFER',
          tooSmall: 'MPI_ERR_BUFFER',
          detached: true,
          detachTwice: 'MPI_ERR_BUFFER',
          noBuffer: 'MPI_ERR_BUFFER',
          waitFreed: 'MPI_ERR_REQUEST',
          freeTwice: 'MPI_ERR_REQUEST',
          getStatus: { before: 'pending', source: true, again: 60, waited: 2 },
          empty: [UNDEFINED, UNDEFINED, 0, 0],
          inStatus: {
            code: 'MPI_ERR_IN_STATUS',
            isClass: true,
            failures: [[1, 'MPI_ERR_TRUNCATE']],
            statuses: [[true, 32, 'ok'], [true, 32, 'MPI_ERR_TRUNCATE'], [true, 32, 'ok']],
            names: true,
          },
        });
      }
    });
  }
});
