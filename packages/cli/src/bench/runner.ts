/**
 * Runs one benchmark job on @tsmpi/mpi's embedding API: 2 ranks of programs/bench-rank, the job's
 * configuration as runtime options, the spec as the program's argument.
 */
import { DEFAULT_OPTIONS, runJob } from '@tsmpi/mpi';
import type { RunJobOptions } from '@tsmpi/mpi';
import type { JobRunner } from './study.js';
import { BenchJobError } from './errors.js';
import type { RankSizeResult } from './job.js';

// From source (tsx, vitest) the program is the .ts file; from dist, the compiled .js beside this one.
const fromSource = import.meta.url.endsWith('.ts');
export const RANK_PROGRAM = new URL(`./programs/bench-rank.${fromSource ? 'ts' : 'js'}`, import.meta.url);

export const runBenchJob: JobRunner = async (job, o) => {
  const { spec, config } = job;
  // Knobs the study needs from the runtime beyond `tsmpi run`'s. pinMode 'pin' is the adapter's
  // default, so it may go unsaid; anything else must be honoured or the job refused, rather than
  // run a different configuration than the one the table will name.
  const known = DEFAULT_OPTIONS as unknown as Record<string, unknown>;
  const extra: Record<string, unknown> = {};
  if ('pinMode' in known) extra.pinMode = config.pinMode;
  else if (config.pinMode !== 'pin') throw new BenchJobError(spec.name, new Error("@tsmpi/mpi's runJob has no 'pinMode' option yet"));
  if ('rcacheMaxRegions' in known) extra.rcacheMaxRegions = o.maxRegions;
  else if (spec.pattern.kind === 'rotate' && config.rcache !== 'off') {
    throw new BenchJobError(spec.name, new Error("@tsmpi/mpi's runJob has no 'rcacheMaxRegions' option yet: rotate:N cannot exceed the cache"));
  }
  let result;
  try {
    result = await runJob({
      np: 2,
      program: RANK_PROGRAM,
      args: [JSON.stringify(spec)],
      fabric: config.fabric,
      rcache: config.rcache,
      ...(extra as Partial<RunJobOptions>),
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
