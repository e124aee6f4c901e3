// Scale across node processes: 128 ranks over 2 processes and 256 over 4 complete a barrier and an
// allreduce whose every element each rank checks (rank i's value is its own, so a lost or doubled
// contribution shows). The subject is the process structure at scale (wire-up, queue-pair tables,
// control connection, network wire), so the ranks run unsynchronised (timing 'fast'): the exact
// timing's conservative synchronisation costs 128 ranks on two cores minutes (172 s against 35 s,
// measured on the 2-core box), and determinism has tests of its own.
import { describe, expect, it } from 'vitest';
import { underProcs } from './procs-harness.js';

const program = 'packages/mpi/test/programs/procs-scale.ts';

describe('many ranks over node processes (--procs)', () => {
  for (const [np, nodes] of [[128, 2], [256, 4]] as const) {
    it(`${np} ranks over ${nodes} processes: barrier + allreduce`, async () => {
      const o = await underProcs({ np, nodes, program, options: { deadlockMs: 30_000, timing: 'fast' } });
      expect(o.error).toBeUndefined();
      expect(o.exitCode).toBe(0);
      expect(o.ranks).toHaveLength(np);
      const want = (np * (np - 1)) / 2;
      expect(o.ranks.every((r, i) => r.rank === i && r.outcome === 'finished' && (r.value as { sum: number }).sum === want)).toBe(true);
      expect(new Set(o.ranks.map((r) => r.node)).size).toBe(nodes);
    }, 600_000);
  }
});
