// The deadlock detector decides from progress, not wall time (launcher/deadlock.ts): a job whose
// rank threads are held off their cores for longer than the window (--inject stall, as on a host at
// load 100) is not reported, and a real deadlock under the same stalls still is, naming each wait.
import { describe, expect, it } from 'vitest';
import { DEADLOCK_EXIT_CODE, runJob } from '../src/index.js';

const prog = (name: string) => new URL(`./programs/${name}.ts`, import.meta.url);
const WINDOW_MS = 300;

describe('deadlock detection under load', () => {
  for (const timing of ['exact', 'fast'] as const) {
    it(`${timing} timing: ranks woken but held off their cores for 4 windows are not reported`, async () => {
      const r = await runJob({ np: 2, program: prog('deadlock-stalled'), args: ['handoff', String(WINDOW_MS)], timing,
        deadlockMs: WINDOW_MS, inject: `stall:${4 * WINDOW_MS}`, captureOutput: true });
      expect(r.error).toBeUndefined();
      expect(r.exitCode).toBe(0);
    });
  }

  it('a rank whose thread is stopped in a compute step longer than the window is not reported', async () => {
    const r = await runJob({ np: 2, program: prog('deadlock-stalled'), args: ['compute', String(4 * WINDOW_MS)],
      deadlockMs: WINDOW_MS, captureOutput: true });
    expect(r.error).toBeUndefined();
    expect(r.exitCode).toBe(0);
  });

  it('a real deadlock is still reported under the same stalls, naming each rank\'s wait', async () => {
    const r = await runJob({ np: 3, program: prog('deadlock'), deadlockMs: WINDOW_MS, inject: `stall:${4 * WINDOW_MS}` });
    expect(r.exitCode).toBe(DEADLOCK_EXIT_CODE);
    expect(r.error!.message).toMatch(/^deadlock: every rank is blocked and nothing has moved for 300 ms\n/);
    expect(r.error!.waits).toEqual([
      'rank 0: blocked in recv(source=1, tag=11)',
      'rank 1: blocked in recv(source=2, tag=11)',
      'rank 2: blocked in recv(source=0, tag=11)',
    ]);
  });
});
