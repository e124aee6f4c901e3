/**
 * Runs a plan: one job at a time (each job is 2 ranks on worker threads; on 2 cores a second job
 * in parallel would only slow both), records per size, progress on the side.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchOptions } from './args.js';
import type { PlannedJob } from './plan.js';
import { planJobs } from './plan.js';
import type { RankSizeResult } from './job.js';
import { recordsOfJob } from './records.js';
import { BenchJobError } from './errors.js';
import { formatPattern } from './patterns.js';
import type { BenchRecord } from './record.js';

/** Runs one planned job on the runtime and returns each rank's results (index = rank). */
export type JobRunner = (job: PlannedJob, opts: Pick<BenchOptions, 'cost' | 'eager' | 'maxRegions' | 'procs' | 'timing' | 'traceDir'>) => Promise<RankSizeResult[][]>;

/** A job that did not finish: kept beside the records, shown in the verdict, never dropped. */
export interface JobFailureRecord {
  job: string;
  suite: string;
  config: string;
  pattern: string;
  message: string;
}

export interface StudyResult {
  records: BenchRecord[];
  failures: JobFailureRecord[];
}

export interface StudyHooks {
  /** Called often while a job runs (cells done overall, the job's name) and once when it ends. */
  onProgress?(cellsDone: number, job: string): void;
  onJobDone?(cellsDone: number, job: string, records: BenchRecord[]): void;
  onJobFailed?(cellsDone: number, job: string, failure: JobFailureRecord): void;
}

export function totalCells(jobs: readonly PlannedJob[]): number {
  return jobs.reduce((a, j) => a + j.spec.steps.length, 0);
}

/**
 * Runs every job of the plan. A job that fails (the runtime raised an error in a rank) becomes a
 * failure record and the study goes on: one broken configuration must not hide the others.
 */
export async function runStudy(o: BenchOptions, run: JobRunner, hooks: StudyHooks = {}): Promise<StudyResult> {
  const jobs = planJobs(o);
  const records: BenchRecord[] = [];
  const failures: JobFailureRecord[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'tsmpi-bench-'));
  let cellsDone = 0;
  try {
    for (const [k, job] of jobs.entries()) {
      const progressFile = join(dir, `job-${k}`);
      job.spec.progressFile = progressFile;
      const base = cellsDone;
      const poll = setInterval(() => {
        let n = 0;
        try {
          n = statSync(progressFile).size;
        } catch {
          // not created yet: the first size has not finished
        }
        hooks.onProgress?.(base + n, job.spec.name);
      }, 250);
      hooks.onProgress?.(base, job.spec.name);
      try {
        const perRank = await run(job, o);
        const recs = recordsOfJob(job.spec, job.config, o.cost, perRank);
        records.push(...recs);
        cellsDone = base + job.spec.steps.length;
        hooks.onJobDone?.(cellsDone, job.spec.name, recs);
      } catch (e) {
        if (!(e instanceof BenchJobError)) throw e;
        const failure: JobFailureRecord = {
          job: job.spec.name,
          suite: job.spec.suite,
          config: job.config.label,
          pattern: formatPattern(job.spec.pattern),
          message: e.message,
        };
        failures.push(failure);
        cellsDone = base + job.spec.steps.length;
        hooks.onJobFailed?.(cellsDone, job.spec.name, failure);
      } finally {
        clearInterval(poll);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { records, failures };
}
