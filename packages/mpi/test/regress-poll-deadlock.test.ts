/**
 * Issue 20.3: a rank polling test() or iprobe() for what can never come is a deadlock like a blocking
 * wait: the detector ends the job (exit 2) and names the poll. A rank that polls while its peer
 * computes is not. And a rank waiting with exact timing stays BLOCKED between its sleep slices.
 */
import { describe, expect, it } from 'vitest';
import { DEADLOCK_EXIT_CODE, runJob } from '../src/index.js';

const program = new URL('./programs/regress-poll-deadlock.ts', import.meta.url);

describe('a polling rank is seen by the deadlock detector', () => {
  it.each([
    ['gone', ['rank 0: finished', 'rank 1: polling test() on recv(source=0, tag=4) without progress']],
    ['iprobe', ['rank 0: finished', 'rank 1: polling iprobe(source=0, tag=5) without progress']],
    ['cross', ['rank 0: blocked in recv(source=1, tag=6)', 'rank 1: polling test() on recv(source=0, tag=7) without progress']],
  ])('%s: exit 2 with a report naming the poll', async (mode, waits) => {
    const r = await runJob({ np: 2, program, args: [mode], deadlockMs: 500 });
    expect(r.exitCode).toBe(DEADLOCK_EXIT_CODE);
    expect(r.error!.kind).toBe('deadlock');
    expect(r.error!.waits).toEqual(waits);
  }, 60_000);

  it('exact timing: a rendezvous nobody matches while its receiver waits for a later message is reported', async () => {
    // both ranks used to spin between sleep slices of a millisecond, RUNNING whenever the detector looked
    const r = await runJob({ np: 2, program: new URL('./programs/regress-unmatched.ts', import.meta.url), args: ['65536'], eagerThreshold: 12 * 1024, timing: 'exact', deadlockMs: 500 });
    expect(r.exitCode).toBe(DEADLOCK_EXIT_CODE);
    expect(r.error!.waits).toEqual([
      'rank 0: blocked in send(dest=1, tag=1) waiting for the receiver to match it',
      'rank 1: blocked in recv(source=0, tag=2)',
    ]);
  }, 60_000);

  it('a rank polling while its peer computes for longer than the window is left alone', async () => {
    const r = await runJob({ np: 2, program, args: ['late', '1500'], deadlockMs: 500 });
    expect(r.error).toBeUndefined();
    expect(r.exitCode).toBe(0);
    expect(r.ranks[1]!.value).toEqual({ polled: true, value: 42 });
  }, 60_000);
});
