import { describe, expect, it } from 'vitest';
import { soak } from '../../../bench/soak.js';

describe('soak, short form (issue 15 item 13): random steps under injected registration faults', () => {
  it('no wrong delivery, no hang, every failure typed and naming its injected fault', async () => {
    const t = await soak(600, 200);
    expect(t.jobs).toBe(3);
    expect(t.steps).toBe(600);
    expect(t.other).toEqual([]);
    expect(t.wrong).toBe(0);
    expect(t.hangs).toBe(0);
    expect(t.survived + t.failedTyped).toBe(3);
  }, 120_000);
});
