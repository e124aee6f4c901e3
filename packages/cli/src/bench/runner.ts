/**
 * Runs benchmark jobs on @tsmpi/mpi's embedding API: 2 ranks of programs/bench-rank, the job's
 * runtime options as given, the spec as the program's argument.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runJob, runProcsJob, type JobOptions, type JobTraceOption } from '@tsmpi/mpi';
import type { JobRunner } from './study.js';
import { BenchJobError } from './errors.js';
import type { JobSpec, RankSizeResult } from './job.js';

// From source (tsx, vitest) the program is the .ts file; from dist, the compiled .js beside this one.
const fromSource = import.meta.url.endsWith('.ts');
export const RANK_PROGRAM = new URL(`./programs/bench-rank.${fromSource ? 'ts' : 'js'}`, import.meta.url);

/**
 * One job of the bench rank program on 2 ranks: each rank's results, one per step of the spec. A
 * failed job is a BenchJobError carrying the failing rank's message, first stack frames and output.
 */
export async function runBenchRanks(spec: JobSpec, options: Partial<JobOptions>, procs = false, trace?: JobTraceOption): Promise<RankSizeResult[][]> {
  let result;
  try {
    const job = { np: 2, program: RANK_PROGRAM, args: [JSON.stringify(spec)], ...options, captureOutput: true };
    result = await (procs ? runProcsJob(job) : runJob({ ...job, ...(trace ? { trace } : {}) }));
  } catch (e) {
    throw new BenchJobError(spec.name, e);
  }
  if (result.exitCode !== 0) {
    const output = result.ranks.map((r) => r.output ?? '').join('').trim();
    // The first frames of the failing rank's stack say which layer raised it.
    const frames = (result.error?.stack ?? '').split('\n').filter((l) => l.trim().startsWith('at ')).slice(0, 6).join('\n');
    const msg = `${result.error?.message ?? `exit code ${result.exitCode}`}${frames ? `\n${frames}` : ''}${output ? `\n${output}` : ''}`;
    throw new BenchJobError(spec.name, new Error(msg));
  }
  return result.ranks.map((r) => {
    if (!Array.isArray(r.value)) throw new BenchJobError(spec.name, new Error(`rank ${r.rank} returned no results`));
    return r.value as RankSizeResult[];
  });
}

export const runBenchJob: JobRunner = (job, o) => {
  const { spec, config } = job;
  return runBenchRanks(spec, {
    // OSU's point-to-point tests measure the network: one rank on each of two nodes, so every
    // message crosses the modeled link (and virtual times do not depend on two ranks' threads
    // racing for one loopback port).
    nodes: 2,
    fabric: config.fabric,
    rcache: config.rcache,
    pinMode: config.pinMode,
    rndv: config.rndv,
    // strided:M: how the non-contiguous message travels (pack, or scatter/gather RDMA)
    ...(spec.pattern.kind === 'strided' ? { noncontig: spec.pattern.mode } : {}),
    // The region limit is rotate:N's subject (N buffers against a smaller cache). Elsewhere the
    // cache is unlimited, as UCX's is by default: a bw window receives into 64 distinct slices,
    // and a limit below that would make "reuse" thrash on the receiver.
    rcacheMaxRegions: spec.pattern.kind === 'rotate' ? o.maxRegions : Infinity,
    cost: o.cost,
    memBytes: job.memBytes,
    memlock: Infinity,
    timing: o.timing,
    ...(o.eager !== undefined ? { eagerThreshold: o.eager } : {}),
  }, o.procs, o.traceDir === undefined ? undefined : traceFileOf(o.traceDir, spec.name));
};

/** --trace DIR: the job's file, named for the job (a cell) with anything but [\w.-] made '_'. */
export function traceFileOf(dir: string, job: string): string {
  mkdirSync(dir, { recursive: true });
  return join(dir, `${job.replace(/[^\w.-]+/g, '_')}.json`);
}
