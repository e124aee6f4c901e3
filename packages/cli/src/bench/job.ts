/**
 * What crosses between the host (study/runner) and the benchmark rank program: the job's spec in,
 * one result per size out. Plain structured-cloneable data only.
 */
import type { Suite } from './record.js';
import type { Pattern } from './patterns.js';
import type { RegistrationCounters } from './programs/comm.js';

export interface SizeStep {
  size: number;
  iterations: number;
  warmup: number;
  /** Messages in flight per iteration (bw, bibw); 1 for latency and allreduce. */
  window: number;
}

export interface JobSpec {
  /** "<suite>/<config id>/<pattern>", for messages. */
  name: string;
  suite: Suite;
  pattern: Pattern;
  steps: SizeStep[];
  /**
   * Optional progress file: rank 0 appends one byte after each size and the host polls the file's
   * length for the progress bar (a job's ranks only get argv strings, so no shared word).
   */
  progressFile?: string;
}

/** One rank's account of one size. */
export interface RankSizeResult {
  rank: number;
  size: number;
  iterations: number;
  warmup: number;
  window: number;
  /** Virtual µs between the start of the timed iterations and their end, on this rank. */
  elapsedUs: number;
  /** Deliveries this rank received and verified, and how many of them were stale. */
  messages: number;
  stale: number;
  staleBytes: number;
  /** Registration counters of this rank over the whole size (warm-up included). */
  hits: number;
  misses: number;
  registrations: number;
  invalidations: number;
  /** Network page faults on this rank's MRs (ODP), warm-up included. */
  odpFaults: number;
  /** The same counters over the timed iterations alone (what the latency or bandwidth figure paid). */
  timed: RegistrationCounters;
  /** Pages the pattern migrated under this rank's buffers. */
  pagesMigrated: number;
  wallMs: number;
}

/** Bytes of buffers a rank holds at once for a step (the host sizes physical memory from it). */
export function bytesHeld(suite: Suite, step: SizeStep, buffers: number): number {
  switch (suite) {
    case 'latency':
      return buffers * step.size * 2;
    case 'bw':
    case 'bibw':
      // window slices on their own pages (see programs/suites.ts), plus the send buffer
      return buffers * ((Math.ceil(step.size / 4096) + 1) * 4096 * step.window + 4096 + step.size);
    case 'allreduce':
      return buffers * step.size * 2;
  }
}
