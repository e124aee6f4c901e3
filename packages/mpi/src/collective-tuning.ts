import { InvalidArgument } from './errors.js';

/**
 * The switch points between collective algorithms (MPICH calls them CVARs): a job option
 * (JobOptions.collectiveTuning, or the TSMPI_COLL_* variables), changeable per rank with
 * setCollectiveTuning(). Every rank of a communicator must use the same values, or ranks would
 * pick different algorithms and wait for each other forever.
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

/**
 * MPICH's short-message switch point (MPIR_CVAR_BCAST_SHORT_MSG_SIZE, 12288). The eager threshold
 * also defaults to 12 KiB, but the two are independent: --eager does not move the algorithms.
 */
export const MPICH_SHORT_MSG_BYTES = 12 * 1024;

/** MPICH's defaults. */
export const DEFAULT_TUNING: Readonly<CollectiveTuning> = Object.freeze({
  bcastLongBytes: MPICH_SHORT_MSG_BYTES,
  bcastLongMinRanks: 8,
  allreduceLongBytes: 2048,
  gatherLinearBytes: MPICH_SHORT_MSG_BYTES,
  allgatherLongBytes: 512 * 1024,
});

/** The environment variable of each knob. */
export const TUNING_ENV: Readonly<Record<keyof CollectiveTuning, string>> = Object.freeze({
  bcastLongBytes: 'TSMPI_COLL_BCAST_LONG_BYTES',
  bcastLongMinRanks: 'TSMPI_COLL_BCAST_LONG_MIN_RANKS',
  allreduceLongBytes: 'TSMPI_COLL_ALLREDUCE_LONG_BYTES',
  gatherLinearBytes: 'TSMPI_COLL_GATHER_LINEAR_BYTES',
  allgatherLongBytes: 'TSMPI_COLL_ALLGATHER_LONG_BYTES',
});

function check(name: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0) || !(Number.isSafeInteger(v) || v === Infinity)) {
    throw new InvalidArgument(name, `expected an integer >= 0 (or Infinity to never switch), got ${String(v)}`);
  }
  return v;
}

/** `base` with `changes` applied, every knob name and value checked; throws InvalidArgument naming the bad one. */
export function applyTuning(base: Readonly<CollectiveTuning>, changes: Partial<CollectiveTuning>): CollectiveTuning {
  const next = { ...base };
  for (const [key, v] of Object.entries(changes)) {
    if (!(key in DEFAULT_TUNING)) {
      throw new InvalidArgument(key, `not a collective tuning knob; use one of ${Object.keys(DEFAULT_TUNING).join(', ')}`);
    }
    next[key as keyof CollectiveTuning] = check(key, v);
  }
  return next;
}

/** The TSMPI_COLL_* variables that are set, as tuning changes (undefined when none is). */
export function tuningFromEnv(env: NodeJS.ProcessEnv): Partial<CollectiveTuning> | undefined {
  let t: Partial<CollectiveTuning> | undefined;
  for (const key of Object.keys(TUNING_ENV) as (keyof CollectiveTuning)[]) {
    const text = env[TUNING_ENV[key]];
    if (text !== undefined && text !== '') (t ??= {})[key] = check(TUNING_ENV[key], text === 'Infinity' ? Infinity : Number(text));
  }
  return t;
}
