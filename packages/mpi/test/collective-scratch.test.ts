import { describe, expect, it } from 'vitest';
import { runJob } from '../src/index.js';

const program = new URL('./programs/coll-scratch.ts', import.meta.url);

describe('collective scratch kept per communicator', () => {
  it('a large allreduce registers its scratch once, not every call; freeing the communicator unmaps it', async () => {
    const r = await runJob({ np: 4, program, args: ['32768', '3'], rcache: 'notifier', memlock: Infinity });
    expect(r.error).toBeUndefined();
    for (const rank of r.ranks) {
      const v = rank.value as { wrong: number; steps: { registrations: number; invalidations: number; misses: number }[] };
      expect(v.wrong).toBe(0);
      const [before, first, second, third, freed] = v.steps;
      // the first call registers the user's buffers and the scratch; later calls find them all cached
      expect(first!.registrations).toBeGreaterThan(before!.registrations);
      expect([second!.registrations, third!.registrations]).toEqual([first!.registrations, first!.registrations]);
      expect([second!.misses, third!.misses]).toEqual([first!.misses, first!.misses]);
      expect([first!.invalidations, second!.invalidations, third!.invalidations]).toEqual([0, 0, 0]);
      // comm.free(): the scratch goes back to the heap, whose munmap the notifier reports
      expect(freed!.invalidations).toBe(1);
    }
  });

  it('below the heap\'s mmap threshold a temporary still comes from the heap each call', async () => {
    const r = await runJob({ np: 4, program, args: ['2048', '3'], rcache: 'notifier', memlock: Infinity });
    expect(r.error).toBeUndefined();
    for (const rank of r.ranks) {
      const v = rank.value as { wrong: number; steps: { invalidations: number }[] };
      expect(v.wrong).toBe(0);
      expect(v.steps.at(-1)!.invalidations).toBe(0); // nothing kept, nothing unmapped at free
    }
  });
});
