// Queue pairs made on first use, and many ranks in one process. The 1024-rank run (16 nodes × 64) is
// bench/mpi/scale.ts's: on CI's two cores it takes minutes, so the test here stops at 256 ranks.
import { describe, expect, it } from 'vitest';
import { runJob } from '../src/index.js';

const ring = new URL('../../../examples/ring.ts', import.meta.url);
const barrierAllreduce = new URL('./programs/procs-scale.ts', import.meta.url);

describe('queue pairs on demand', () => {
  it('a ring on 12 ranks over 2 nodes creates 2 per neighbour pair (24), not one per pair of ranks (132)', async () => {
    const np = 12;
    const r = await runJob({ np, nodes: 2, program: ring, captureOutput: true });
    expect(r.error).toBeUndefined();
    expect(r.ranks[0]!.output).toMatch(/token came back to rank 0 carrying 66 \(expected 66\)/);
    // ranks 0-5 on node 0, 6-11 on node 1: the pairs (5,6) and (11,0) have one end on each node
    expect(r.queuePairs).toEqual([np, np]);
    expect(r.queuePairs!.reduce((a, b) => a + b)).toBe(2 * np);
  }, 300_000);

  it('an alltoall connects every pair once: n(n-1) queue pairs, both ends of each', async () => {
    const np = 6;
    const r = await runJob({ np, program: new URL('./programs/flood.ts', import.meta.url), args: ['1'], timing: 'fast' });
    expect(r.error).toBeUndefined();
    expect(r.queuePairs).toEqual([np * (np - 1)]);
  }, 300_000);
});

describe('many ranks in one process', () => {
  it('256 ranks over 4 nodes complete a barrier and an allreduce, every element checked', async () => {
    const np = 256;
    // 'fast': exact timing's conservative synchronisation of 256 threads on two cores is the bench's to measure
    const r = await runJob({ np, nodes: 4, program: barrierAllreduce, timing: 'fast', deadlockMs: 60_000 });
    expect(r.error).toBeUndefined();
    expect(r.ranks.every((x) => x.outcome === 'finished' && (x.value as { sum: number }).sum === (np * (np - 1)) / 2)).toBe(true);
    // a dissemination barrier and a recursive-doubling allreduce: O(n log n) pairs, far below n(n-1) = 65280
    const qps = r.queuePairs!.reduce((a, b) => a + b);
    expect(qps).toBeLessThanOrEqual(2 * np * 2 * Math.log2(np));
    expect(qps).toBeGreaterThan(0);
  }, 900_000);
});
