/**
 * The plan: one job per suite × configuration × pattern (two ranks each; rank start-up is the
 * costly part, so the sizes loop inside the rank program), each with its sweep of sizes.
 */
import type { BenchOptions } from './args.js';
import type { Configuration } from './configs.js';
import { MIGRATION_CONFIGS, NONCONTIG_CONFIGS } from './configs.js';
import type { JobSpec, SizeStep } from './job.js';
import { bytesHeld } from './job.js';
import type { Pattern } from './patterns.js';
import { buffersHeld, formatPattern } from './patterns.js';
import type { Suite } from './record.js';
import { iterationCounts, sizeSweep } from './sizes.js';

/** Kernel-initiated case: migrate every this many iterations (large sizes run only 3 in the short form). */
export const MIGRATE_EVERY = 2;

export interface PlannedJob {
  spec: JobSpec;
  config: Configuration;
  /** Physical memory the node needs for this job, bytes (buffers of both ranks, with headroom). */
  memBytes: number;
}

export function windowFor(suite: Suite, size: number, window: number, windowBytes: number): number {
  if (suite !== 'bw' && suite !== 'bibw') return 1;
  return Math.max(2, Math.min(window, Math.floor(windowBytes / size)));
}

export function stepsFor(suite: Suite, o: Pick<BenchOptions, 'sizes' | 'iterations' | 'byteBudget' | 'window' | 'windowBytes'>): SizeStep[] {
  return sizeSweep(o.sizes[0], o.sizes[1]).map((size) => {
    const window = windowFor(suite, size, o.window, o.windowBytes);
    // A window moves `window` messages per iteration: spend the byte budget on all of them.
    const { iterations, warmup } = iterationCounts(size * window, o.iterations, o.byteBudget);
    return { size, iterations, warmup, window };
  });
}

const MiB = 1024 * 1024;

export function planJobs(o: BenchOptions): PlannedJob[] {
  const jobs: PlannedJob[] = [];
  const add = (suite: Suite, config: Configuration, pattern: Pattern, steps: SizeStep[]): void => {
    const held = Math.max(...steps.map((s) => bytesHeld(suite, s, buffersHeld(pattern))));
    const largest = Math.max(...steps.map((s) => bytesHeld(suite, s, 1)));
    // Per rank: its live buffers (twice, for the allocator's slack) and the frames a cache may
    // keep pinned after the buffers were freed (up to maxRegions regions under churn); plus
    // bounce buffers and heap. Frames are only touched when used, so generous is cheap.
    const perRank = 2 * held + o.maxRegions * largest;
    const memBytes = Math.ceil((2 * perRank + 64 * MiB) / MiB) * MiB;
    jobs.push({
      spec: { name: `${suite}/${config.id}/${formatPattern(pattern)}`, suite, pattern, steps },
      config,
      memBytes,
    });
  };
  for (const suite of o.suites) {
    const steps = stepsFor(suite, o);
    for (const pattern of o.patterns) for (const config of o.configs) add(suite, config, pattern, steps);
    if (o.migration) {
      for (const config of MIGRATION_CONFIGS) add(suite, config, { kind: 'migrate', every: MIGRATE_EVERY }, steps);
    }
  }
  // The non-contiguous case, last (the records before it are as they were without it): ping-pong of
  // a strided vector, packed or by scatter/gather RDMA, under each registration policy.
  if (o.noncontig) {
    const steps = stepsFor('latency', o);
    for (const mode of ['pack', 'sge'] as const) for (const config of NONCONTIG_CONFIGS) add('latency', config, { kind: 'strided', mode }, steps);
  }
  return jobs;
}
