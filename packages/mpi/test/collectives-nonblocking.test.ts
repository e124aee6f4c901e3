/**
 * ibarrier, ibcast, ireduce, iallreduce, igather, iallgather, ialltoall on 8 ranks and on groups of
 * 1, 2, 3, 4 and 5 (programs/coll-nb.ts): bit-identical results and exactly the messages of the
 * blocking forms, at sizes that reach each algorithm; several in flight with a blocking
 * collective in between; test() loops and waitAny over mixed requests.
 */
import { describe, expect, it } from 'vitest';
import { runJob } from '../src/index.js';

type Report = { size: number; wrong: string[]; traffic: Record<string, [number, number]>; polls: number };

describe('nonblocking collectives', () => {
  it('match the blocking forms result for result and message for message on 1, 2, 3, 4, 5 and 8 ranks', async () => {
    const r = await runJob({ np: 8, program: new URL('./programs/coll-nb.ts', import.meta.url) });
    expect(r.error).toBeUndefined();
    const ranks = r.ranks.map((x) => x.value as { reports: Report[]; algorithms: Record<string, number> });
    const sizes = new Set<number>();
    let messages = 0;
    for (const { reports } of ranks) {
      for (const rep of reports) {
        sizes.add(rep.size);
        expect(rep.wrong).toEqual([]);
        for (const [key, [blocking, nonblocking]] of Object.entries(rep.traffic)) {
          expect({ key, nonblocking }).toEqual({ key, nonblocking: blocking });
          messages += nonblocking;
        }
      }
    }
    expect([...sizes].sort()).toEqual([1, 2, 3, 4, 5, 8]);
    expect(messages).toBeGreaterThan(1000);
    // both algorithms of each switch were reached (each run twice: blocking and nonblocking)
    const algos = ranks[0]!.algorithms;
    for (const a of ['allreduce.recursiveDoubling', 'allreduce.rabenseifner', 'bcast.binomial', 'bcast.scatterAllgather',
      'gather.binomial', 'gather.linear', 'allgather.recursiveDoubling', 'allgather.ring', 'alltoall.pairwise', 'barrier.dissemination']) {
      expect(algos[a], a).toBeGreaterThanOrEqual(2);
    }
  });

  it('waited for at once, give every rank exactly the blocking forms\' virtual clock', async () => {
    const clocks = async (form: string) => {
      const r = await runJob({ np: 4, nodes: 4, program: new URL('./programs/coll-nb-clock.ts', import.meta.url), args: [form] });
      expect(r.error).toBeUndefined();
      return r.ranks.map((x) => x.value as number);
    };
    const blocking = await clocks('blocking');
    expect(Math.min(...blocking)).toBeGreaterThan(0);
    expect(await clocks('nonblocking')).toEqual(blocking);
  });
});
