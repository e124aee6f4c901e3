/**
 * The algorithm switch points: defaults, per-rank changes, and the typed errors for knobs
 * that do not exist or values that cannot be sizes. (That a changed switch point really
 * changes the algorithm on real ranks is asserted in collectives.test.ts.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_TUNING, collectiveTuning, setCollectiveTuning } from '@tsmpi/mpi';

afterEach(() => {
  setCollectiveTuning(DEFAULT_TUNING);
});

describe('collective tuning', () => {
  it("starts from MPICH's switch points", () => {
    expect(collectiveTuning()).toEqual({
      bcastLongBytes: 12 * 1024,
      bcastLongMinRanks: 8,
      allreduceLongBytes: 2048,
      gatherLinearBytes: 12 * 1024,
      allgatherLongBytes: 512 * 1024,
    });
  });

  it('changes only the knobs named and hands back the previous values', () => {
    const before = setCollectiveTuning({ allreduceLongBytes: 65536, allgatherLongBytes: Infinity });
    expect(before.allreduceLongBytes).toBe(2048);
    expect(collectiveTuning()).toEqual({ ...DEFAULT_TUNING, allreduceLongBytes: 65536, allgatherLongBytes: Infinity });
  });

  it('rejects unknown knobs and values that are not sizes, changing nothing', () => {
    expect(() => setCollectiveTuning({ allreduceLong: 1 } as never)).toThrow(expect.objectContaining({ code: 'MPI_ERR_ARG' }));
    expect(() => setCollectiveTuning({ bcastLongBytes: -1 })).toThrow(/integer >= 0/);
    expect(() => setCollectiveTuning({ gatherLinearBytes: 1.5 })).toThrow(/integer >= 0/);
    expect(() => setCollectiveTuning({ gatherLinearBytes: Number.NaN })).toThrow(/integer >= 0/);
    expect(() => setCollectiveTuning({ allreduceLongBytes: 1, bcastLongMinRanks: -2 })).toThrow(/bcastLongMinRanks/);
    expect(collectiveTuning()).toEqual(DEFAULT_TUNING);
  });
});
