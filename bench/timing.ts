/**
 * Wall-clock helpers shared by the layer benchmarks: the best of a few repeats (the least
 * disturbed run on a shared machine), seconds from hrtime, and MB/s.
 */
export const KiB = 1024;
export const MiB = 1024 * KiB;

/** Runs `fn` (which returns seconds) `repeats` times and keeps the fastest. */
export function best(fn: () => number, repeats = 5): number {
  let b = Infinity;
  for (let r = 0; r < repeats; r++) b = Math.min(b, fn());
  return b;
}

/** Seconds `run` takes. */
export function time(run: () => void): number {
  const t0 = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

export const mbps = (bytes: number, s: number): string => (bytes / s / 1e6).toFixed(0);

/** Enough operations for ~64 MiB moved per run (at least 20). */
export const itersFor = (size: number): number => Math.max(20, Math.floor((64 * MiB) / size));
