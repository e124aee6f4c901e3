import { describe, expect, it } from 'vitest';
import { soak } from '../../../bench/soak.js';

describe('soak, short form (issue 15 item 13): random steps under injected registration faults', () => {
  it('no wrong delivery, no hang, every failure typed and naming its injected fault; truncations over every transport', async () => {
    // 15 jobs: every safe configuration × every intra-node transport (rdma, shm, cma, xpmem, auto)
    const t = await soak(1500, 100);
    expect(t.jobs).toBe(15);
    expect(t.steps).toBe(1500);
    expect(t.other).toEqual([]);
    expect(t.wrong).toBe(0);
    expect(t.hangs).toBe(0);
    expect(t.survived + t.failedTyped).toBe(15);
    expect(t.truncations).toBeGreaterThan(0);
  }, 300_000);
});
