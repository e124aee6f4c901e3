/**
 * Runs one benchmark job on @tsmpi/mpi's embedding API: 2 ranks of programs/bench-rank, the job's
 * configuration as runtime options, the spec as the program's argument.
 */
import { runJob } from '@tsmpi/mpi';
import type { JobRunner } from './study.js';
import { BenchJobError } from './errors.js';
import type { RankSizeResult } from './job.js';

// From source (tsx, vitest) the program is the .ts file; from dist, the compiled .js beside this one.
const fromSource = import.meta.url.endsWith('.ts');
export const RANK_PROGRAM = new URL(`./programs/bench-rank.${fromSource ? 'ts' : 'js'}`, import.meta.url);

export const runBenchJob: JobRunner = async (job, o) => {
  const { spec, config } = job;
  let result;
  try {
    result = await runJob({
      // OSU's point-to-point tests measure the network: one rank on each of two nodes, so every
      // message crosses the modeled link (and virtual times do not depend on two ranks' threads
      // racing for one loopback port).
      np: 2,
      nodes: 2,
      program: RANK_PROGRAM,
      args: [JSON.stringify(spec)],
      fabric: config.fabric,
      rcache: config.rcache,
      pinMode: config.pinMode,
      // The region limit is rotate:N's subject (N buffers against a smaller cache). Elsewhere the
      // cache is unlimited, as UCX's is by default: a bw window receives into 64 distinct slices,
      // and a limit below that would make "reuse" thrash on the receiver.
      rcacheMaxRegions: spec.pattern.kind === 'rotate' ? o.maxRegions : Infinity,
      cost: o.cost,
      memBytes: job.memBytes,
      memlock: Infinity,
      ...(o.eager !== undefined ? { eagerThreshold: o.eager } : {}),
      captureOutput: true,
    });
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
};
