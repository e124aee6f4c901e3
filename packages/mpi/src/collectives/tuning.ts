import { DEFAULT_TUNING, applyTuning, type CollectiveTuning } from '../collective-tuning.js';

export { DEFAULT_TUNING, MPICH_SHORT_MSG_BYTES } from '../collective-tuning.js';
export type { CollectiveTuning } from '../collective-tuning.js';

/**
 * The live values the algorithms read: this thread's rank's, installed by its runtime from
 * JobOptions.collectiveTuning (useCollectiveTuning); MPICH's defaults outside a rank.
 */
export let tuning: CollectiveTuning = { ...DEFAULT_TUNING };

/** @internal the rank runtime hands in its own tuning at start-up */
export function useCollectiveTuning(t: CollectiveTuning): void {
  tuning = t;
}

export function collectiveTuning(): Readonly<CollectiveTuning> {
  return { ...tuning };
}

/** Changes switch points on this rank (call it with the same values on every rank); returns the previous values. */
export function setCollectiveTuning(changes: Partial<CollectiveTuning>): CollectiveTuning {
  const before = { ...tuning };
  Object.assign(tuning, applyTuning(tuning, changes)); // all or nothing
  return before;
}
