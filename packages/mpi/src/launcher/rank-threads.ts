import { readFileSync } from 'node:fs';
import type { ResourceLimits } from 'node:worker_threads';
import { UsageError } from '../errors.js';

/** V8's young generation per rank thread when ranks outnumber cores (its default grows to 16 MB). */
const OVERSUBSCRIBED_YOUNG_MB = 1;

/**
 * Memory mappings one rank thread adds to the process, measured (bench/mpi/scale.ts, 64 and 128
 * ranks): V8 maps its heap in 256 KiB pages, one mapping each, plus the thread's stack and code
 * pages — 58–70 per rank. Rounded up, so a job the check lets through does not meet the limit.
 */
export const MAPPINGS_PER_RANK = 60;

/** The Worker options of a rank thread besides its data: its heap limits and inherited flags. */
export function rankThreadOptions(oversubscribed: boolean, bundled: boolean): { resourceLimits?: ResourceLimits; execArgv?: string[] } {
  return {
    // More ranks than cores: a rank's memory matters more than its scavenges (rank/README: memory per rank)
    ...(oversubscribed ? { resourceLimits: { maxYoungGenerationSizeMb: OVERSUBSCRIBED_YOUNG_MB } } : {}),
    // A bundled rank is plain JavaScript: a module loader the launcher runs under (tsx's, when a
    // script is started with `npx tsx`) would only be loaded again in every rank — 2.2 MB of heap per
    // rank, measured at 32 ranks — and hook nothing.
    ...(bundled ? { execArgv: withoutModulePreloads(process.execArgv) } : {}),
  };
}

/** `argv` without the flags that preload modules or install module hooks (--require, --import, --loader). */
export function withoutModulePreloads(argv: readonly string[]): string[] {
  const preload = /^(--require|-r|--import|--loader|--experimental-loader)$/;
  const preloadWithValue = /^(--require|--import|--loader|--experimental-loader)=/;
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (preload.test(a)) i++;
    else if (!preloadWithValue.test(a)) out.push(a);
  }
  return out;
}

/**
 * Refuses a job whose rank threads would take the process past the kernel's limit on memory
 * mappings (Linux vm.max_map_count, 65530 by default): past it every mmap fails, and V8, unable to
 * map a heap page for some rank, ends the whole process as if out of memory — with 1024 ranks
 * after minutes of work, and nothing of the job reported. `readProc` is for tests.
 */
export function checkMappingBudget(ranks: number, readProc: (path: string) => string | undefined = readIfPresent): void {
  const limit = Number(readProc('/proc/sys/vm/max_map_count'));
  const maps = readProc('/proc/self/maps');
  if (!Number.isFinite(limit) || limit <= 0 || maps === undefined) return; // not Linux: no such limit to check
  const inUse = maps.split('\n').filter((l) => l.length > 0).length;
  const need = ranks * MAPPINGS_PER_RANK;
  if (inUse + need <= limit) return;
  const fits = Math.max(0, Math.floor((limit - inUse) / MAPPINGS_PER_RANK));
  throw new UsageError(
    `${ranks} rank threads need about ${need} memory mappings (${MAPPINGS_PER_RANK} each: V8 maps its heap page by page), ` +
      `but this process has ${inUse} and the kernel allows ${limit} (vm.max_map_count): past it V8 ends the whole process (a fatal out-of-memory) and the job reports nothing. ` +
      `Run at most ${fits} ranks in this process, split the job over node processes (--procs), ` +
      `or raise the limit (sysctl -w vm.max_map_count=${roundUp(inUse + need + 4096)}).`,
  );
}

function roundUp(n: number): number {
  return Math.ceil(n / 65536) * 65536;
}

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
