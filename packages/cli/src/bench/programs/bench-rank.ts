/**
 * The benchmark's rank program: `runJob` starts it on 2 ranks with the job's spec as its one
 * argument (JSON); it runs every size of the job and returns this rank's results.
 */
import { init, MAX } from '@tsmpi/mpi';
import type { JobSpec, RankSizeResult } from '../job.js';
import type { BenchComm } from './comm.js';
import { registrationCounters } from './counters.js';
import { stridedComm } from './strided.js';
import { runJob } from './suites.js';

export function main(): RankSizeResult[] {
  const arg = process.argv[2];
  if (!arg) throw new Error('bench-rank: missing the job spec argument (it is started by tsmpi bench, not by hand)');
  const spec = JSON.parse(arg) as JobSpec;
  const comm = init();
  return runJob(
    {
      comm: spec.pattern.kind === 'strided' ? stridedComm(comm as unknown as BenchComm) : (comm as unknown as BenchComm),
      counters: () => registrationCounters(comm.stats()),
      max: MAX,
    },
    spec,
  );
}
