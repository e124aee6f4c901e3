/**
 * Per-rank counters of the collectives: one counter per algorithm branch, plus the traffic
 * they put on the collective twin. The rank runtime owns them (useCollectiveStats at start-up;
 * each rank runs in its own worker thread, with its own instance of this module).
 */
export interface CollectiveStats {
  /** `<collective>.<algorithm>` → times that branch ran, e.g. `allreduce.rabenseifner`. */
  algorithms: Record<string, number>;
  /** Typed-buffer messages this rank sent for collectives, and their bytes. */
  messages: number;
  bytes: number;
  /** Object messages this rank sent for the object collectives. */
  objects: number;
  /** Temporary buffers allocated in simulated memory, and their bytes. */
  temporaries: number;
  temporaryBytes: number;
  /** Local copies (own block into the result, root's block, rotations) and the bytes copied. */
  localCopies: number;
  localCopyBytes: number;
  /** Element-wise reductions and the bytes they were charged for (read + written: 3 × operand). */
  reductions: number;
  reductionBytes: number;
  /** Virtual µs charged to the rank's clock for local copies and reductions (memcpy rate). */
  localUs: number;
}

export function emptyCollectiveStats(): CollectiveStats {
  return {
    algorithms: {}, messages: 0, bytes: 0, objects: 0, temporaries: 0, temporaryBytes: 0,
    localCopies: 0, localCopyBytes: 0, reductions: 0, reductionBytes: 0, localUs: 0,
  };
}

/** The counters the algorithms count into: this thread's rank's, or a spare set outside a rank. */
let counters: CollectiveStats = emptyCollectiveStats();

/** @internal the rank runtime hands in its own counters at start-up */
export function useCollectiveStats(c: CollectiveStats): void {
  counters = c;
}

export function countAlgorithm(name: string): void {
  counters.algorithms[name] = (counters.algorithms[name] ?? 0) + 1;
}
export function countMessage(bytes: number): void {
  counters.messages++;
  counters.bytes += bytes;
}
export function countLocalCopy(bytes: number, us: number): void {
  counters.localCopies++;
  counters.localCopyBytes += bytes;
  counters.localUs += us;
}
export function countReduction(bytes: number, us: number): void {
  counters.reductions++;
  counters.reductionBytes += bytes;
  counters.localUs += us;
}
export function countObject(): void {
  counters.objects++;
}
export function countTemporary(bytes: number): void {
  counters.temporaries++;
  counters.temporaryBytes += bytes;
}

/** A snapshot of this rank's collective counters. */
export function collectiveStats(): CollectiveStats {
  return { ...counters, algorithms: { ...counters.algorithms } };
}

export function resetCollectiveStats(): void {
  counters.algorithms = {};
  counters.messages = counters.bytes = counters.objects = counters.temporaries = counters.temporaryBytes = 0;
  counters.localCopies = counters.localCopyBytes = counters.reductions = counters.reductionBytes = counters.localUs = 0;
}
