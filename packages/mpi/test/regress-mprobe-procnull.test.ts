/** Issue 15.3: mprobe/improbe with PROC_NULL give the no-proc message; its receive completes at once. */
import { expect, it } from 'vitest';
import { ANY_TAG, PROC_NULL, runJob } from '../src/index.js';

it('mprobe/improbe(PROC_NULL): source PROC_NULL, tag ANY_TAG, count 0; mrecv completes at once and writes nothing', async () => {
  const r = await runJob({ np: 2, program: new URL('./programs/regress-mprobe-procnull.ts', import.meta.url) });
  expect(r.error).toBeUndefined();
  const noProc = { source: PROC_NULL, tag: ANY_TAG, byteCount: 0 };
  for (const rank of r.ranks) {
    expect(rank.value).toEqual({
      mprobe: noProc,
      mrecv: { source: PROC_NULL, tag: ANY_TAG, count: 0, byteCount: 0 },
      untouched: [1, 2, 3, 4],
      improbe: noProc,
      mrecvObject: 'undefined',
      irecvDoneAtOnce: true,
      procNullOps: 1,
      constants: { PROC_NULL, ANY_TAG },
    });
  }
}, 60_000);
