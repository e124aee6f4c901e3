import { InvalidArgument } from '../errors.js';

/**
 * The switch points between algorithms (MPICH calls them CVARs). The defaults are MPICH's;
 * they can be changed per rank with setCollectiveTuning() or for a whole job with
 * TSMPI_COLL_* environment variables (read once per rank at start-up; workers inherit the
 * launcher's environment, so every rank agrees). Every rank of a communicator must use the
 * same values, or ranks would pick different algorithms and wait for each other forever.
 */
export interface CollectiveTuning {
  /** bcast: scatter + ring allgather from this many bytes (binomial tree below). */
  bcastLongBytes: number;
  /** bcast: ... and only from this many ranks on. */
  bcastLongMinRanks: number;
  /** allreduce: Rabenseifner from this many bytes (recursive doubling below). */
  allreduceLongBytes: number;
  /** gather / scatter: linear from this many bytes per rank (binomial tree below). */
  gatherLinearBytes: number;
  /** allgather: ring from this many bytes of result even when p is a power of two. */
  allgatherLongBytes: number;
}

export const DEFAULT_TUNING: Readonly<CollectiveTuning> = Object.freeze({
  bcastLongBytes: 12 * 1024,
  bcastLongMinRanks: 8,
  allreduceLongBytes: 2048,
  gatherLinearBytes: 12 * 1024,
  allgatherLongBytes: 512 * 1024,
});

const ENV: Record<keyof CollectiveTuning, string> = {
  bcastLongBytes: 'TSMPI_COLL_BCAST_LONG_BYTES',
  bcastLongMinRanks: 'TSMPI_COLL_BCAST_LONG_MIN_RANKS',
  allreduceLongBytes: 'TSMPI_COLL_ALLREDUCE_LONG_BYTES',
  gatherLinearBytes: 'TSMPI_COLL_GATHER_LINEAR_BYTES',
  allgatherLongBytes: 'TSMPI_COLL_ALLGATHER_LONG_BYTES',
};

function check(name: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0) || !(Number.isSafeInteger(v) || v === Infinity)) {
    throw new InvalidArgument(name, `expected an integer >= 0 (or Infinity to never switch), got ${String(v)}`);
  }
  return v;
}

function fromEnv(): CollectiveTuning {
  const t = { ...DEFAULT_TUNING };
  for (const key of Object.keys(ENV) as (keyof CollectiveTuning)[]) {
    const text = process.env[ENV[key]];
    if (text !== undefined && text !== '') t[key] = check(ENV[key], text === 'Infinity' ? Infinity : Number(text));
  }
  return t;
}

/** The live values the algorithms read. */
export const tuning: CollectiveTuning = fromEnv();

export function collectiveTuning(): Readonly<CollectiveTuning> {
  return { ...tuning };
}

/** Changes switch points on this rank (call it with the same values on every rank); returns the previous values. */
export function setCollectiveTuning(changes: Partial<CollectiveTuning>): CollectiveTuning {
  const before = { ...tuning };
  const next = { ...tuning };
  for (const [key, v] of Object.entries(changes)) {
    if (!(key in DEFAULT_TUNING)) {
      throw new InvalidArgument(key, `not a collective tuning knob; use one of ${Object.keys(DEFAULT_TUNING).join(', ')}`);
    }
    next[key as keyof CollectiveTuning] = check(key, v);
  }
  Object.assign(tuning, next); // all or nothing
  return before;
}
