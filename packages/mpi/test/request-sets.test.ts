/** Request.waitSome / testAll / testAny / testSome on real ranks (programs/request-sets.ts). */
import { describe, expect, it } from 'vitest';
import { UNDEFINED, runJob } from '../src/index.js';

describe('request sets', () => {
  it('return what has completed, poll once per call, skip what was returned and raise errors', async () => {
    const r = await runJob({ np: 3, program: new URL('./programs/request-sets.ts', import.meta.url) });
    expect(r.error).toBeUndefined();
    const v = r.ranks[0]!.value as Record<string, unknown>;
    // rank 2 has not sent: only the receive from rank 1 can be complete
    expect(v.first).toEqual({ indices: [0], sources: [1], value: 11 });
    expect([v.testAll, v.testAny, v.testSome]).toEqual([true, true, []]);
    expect(v.pollsWhilePending).toBe(3);
    expect(v.second).toEqual({ indices: [1], value: 22 });
    // every request returned: MPI_UNDEFINED forms, at once
    expect(v.afterAllSeen).toEqual([[], [], UNDEFINED, UNDEFINED]);
    expect(v.testAllDone).toEqual([0, 0]);
    expect(v.pollsWhenDone).toBe(0);
    expect(v.testAllAgain).toBe(2);
    expect(v.truncation).toBe('MPI_ERR_IN_STATUS MPI_ERR_TRUNCATE');
  });
});
