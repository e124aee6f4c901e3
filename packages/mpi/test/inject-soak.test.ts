import { describe, expect, it } from 'vitest';
import { soak } from '../../../bench/soak.js';

describe('soak, short form (issue 15 items 12-13): random steps under every kind of injected fault', () => {
  it('no wrong delivery, no hang, every failure typed and naming its injected fault; every fault kind with every safe configuration', async () => {
    // 15 jobs: every safe configuration × every intra-node transport (rdma, shm, cma, xpmem, auto), and
    // every (configuration, fault kind) pair: registration, ODP storms, memory pressure, a QP error, a link down
    const t = await soak(1500, 100);
    expect(t.jobs).toBe(15);
    expect(t.steps).toBe(1500);
    expect(t.other).toEqual([]);
    expect(t.wrong).toBe(0);
    expect(t.hangs).toBe(0);
    expect(t.survived + t.failedTyped).toBe(15);
    expect(Object.fromEntries(Object.entries(t.byKind).map(([k, [ok, typed]]) => [k, ok + typed]))).toEqual({
      registration: 3, 'odp-storm': 3, 'mem-pressure': 3, 'qp-error': 3, 'link-down': 3,
    });
    // storms and pressure sweeps are survived: the cache and the ODP tables hear them and re-fault
    expect(t.byKind['odp-storm']).toEqual([3, 0]);
    expect(t.byKind['mem-pressure']).toEqual([3, 0]);
    expect(t.faultsSurvived).toBeGreaterThan(100);
    expect(t.truncations).toBeGreaterThan(0);
  }, 1_200_000); // about 2 min on a quiet host; much longer under load
});
