/**
 * ssend/issend (complete only once matched, at every size and to itself), persistent requests
 * (sendInit/recvInit, start, startAll, free; one registration acquire per persistent send),
 * cancel of an unmatched receive, and a nonblocking collective progressing during a blocking recv
 * (programs/pt2pt-modes.ts, 4 ranks; under eager 12 KiB and 256 B).
 */
import { describe, expect, it } from 'vitest';
import { runJob } from '../src/index.js';

describe.each([12 * 1024, 256])('send modes, persistent requests and cancel (eager < %i B)', (eagerThreshold) => {
  it('hold ssend until the receive is posted, reuse one registration, withdraw unmatched receives', async () => {
    const r = await runJob({ np: 4, program: new URL('./programs/pt2pt-modes.ts', import.meta.url), eagerThreshold });
    expect(r.error).toBeUndefined();
    const [r0, r1] = r.ranks.map((x) => x.value as Record<string, unknown>);
    // no test() saw an issend complete before the receiver was told to post; a plain eager isend completes at once
    expect([r0!['issend 0'], r0!['issend 8'], r0!['issend 65536']]).toEqual([0, 0, 0]);
    expect(r0!['isend 8']).toBe(eagerThreshold > 8);
    expect(r0!['isend 65536']).toBe(false);
    expect(Object.keys(r1!).filter((k) => k.startsWith('data'))).toEqual([]);
    expect([r0!.selfBefore, r0!.selfAfter, r0!.selfData]).toEqual([false, true, 7]);
    // persistent: one acquire for ten rendezvous sends (vs ten), released by free()
    expect(r0!.getsIsend).toBe(10);
    expect(r0!.getsPersistent).toBe(1);
    expect(r0!.putsAtFree).toBe(1);
    expect(r0!.inactiveWait).toBe(-1);
    expect([r0!.startWhileActive, r0!.startAfterFree, r0!.startPlain]).toEqual(['MPI_ERR_REQUEST', 'MPI_ERR_REQUEST', 'MPI_ERR_REQUEST']);
    expect(r1!.persistentData).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 109]);
    expect(r1!.startAll).toEqual([30, 31]);
    // cancel
    expect(r1!.cancelled).toEqual([true, true]);
    expect(r1!.cancelTooLate).toEqual([false, 78]);
    expect(r1!.cancelSend).toBe('MPI_ERR_REQUEST');
    expect(r0!.barrierDoneBeforeWait).toBe(true);
  });
});
