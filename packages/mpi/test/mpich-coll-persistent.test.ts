/**
 * MPICH test/mpi/coll p_* (persistent collectives) in spirit (programs/coll-persistent.ts): every
 * *Init call, started three times with fresh data and checked element by element, on 1, 2, 3, 6
 * and 8 ranks, one node and two; inactive requests, refused starts and frees; and the long
 * allreduce's registrations taken once (init and first start) — with the cache and with
 * pin-per-op (--rcache off), where the same blocking allreduce registers at every call.
 */
import { describe, expect, it } from 'vitest';
import { runJob } from '../src/index.js';

const program = new URL('./programs/coll-persistent.ts', import.meta.url);
type Counts = { gets: number; registrations: number };

describe('persistent collectives (MPICH coll p_*)', () => {
  for (const [np, nodes, rcache] of [[1, 1, undefined], [2, 2, 'off'], [3, 1, undefined], [6, 2, undefined], [8, 2, 'off']] as const) {
    it(`start, wait, start again and free every *Init on ${np} ranks over ${nodes} node(s)${rcache ? ` (--rcache ${rcache})` : ''}`, async () => {
      const r = await runJob({ np, nodes, program, ...(rcache ? { rcache } : {}) });
      expect(r.error).toBeUndefined();
      for (const [i, rank] of r.ranks.entries()) {
        const v = rank.value as { wrong: string[]; inactive: boolean[]; startActive: string; freeActive: string; startFreed: string; deltas: Counts[]; blocking: Counts };
        expect({ rank: i, wrong: v.wrong }).toEqual({ rank: i, wrong: [] });
        expect(v.inactive.every(Boolean)).toBe(true);
        expect(v.inactive).toHaveLength(16);
        const active = np === 1 ? 'n/a' : 'MPI_ERR_REQUEST';
        expect([v.startActive, v.freeActive, v.startFreed]).toEqual([active, active, 'MPI_ERR_REQUEST']);
        // after the first start nothing is registered and the cache is not asked
        expect(v.deltas.slice(1)).toEqual([{ gets: 0, registrations: 0 }, { gets: 0, registrations: 0 }, { gets: 0, registrations: 0 }]);
        if (rcache === 'off' && np === 2) {
          // pin-per-op: the blocking form registers at every call (both buffers, each of three calls)
          expect(v.blocking.registrations).toBeGreaterThanOrEqual(3);
        }
      }
    });
  }
});
