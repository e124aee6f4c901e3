import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Array-buffer bytes past which a finished job's memory is collected at once. */
const COLLECT_ABOVE = 512 * 1024 * 1024;

let collect: (() => void) | undefined;

/**
 * Called before a job creates its nodes. A finished job's node memory is SharedArrayBuffers
 * of hundreds of megabytes, freed only when this isolate collects the last JS objects that hold
 * them; V8 schedules that collection by its own heap's growth, which a finished job barely moved.
 * A study runs hundreds of jobs in one process and grew to 5.8 GB resident that way. Past
 * COLLECT_ABOVE bytes of array buffers, a full collection now gives them back (jest's leak
 * detector reaches gc() the same way when --expose-gc was not given).
 */
export function releaseFinishedJobMemory(): void {
  if (process.memoryUsage().arrayBuffers < COLLECT_ABOVE) return;
  collect ??= gcFunction();
  collect();
}

function gcFunction(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  setFlagsFromString('--no-expose-gc');
  return gc;
}
