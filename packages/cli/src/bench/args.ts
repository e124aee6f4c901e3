/**
 * `tsmpi bench` argument parsing. Flags may repeat or take comma lists; everything bad is a
 * BenchUsageError naming the flag.
 *
 *   tsmpi bench [study] [latency|bw|bibw|allreduce ...] [options]
 */
import { presets } from '@tsmpi/fabric';
import { FABRICS, RCACHE_POLICIES, parseTiming, type TimingKind } from '@tsmpi/mpi';
import type { Configuration, FabricKind, RcachePolicy } from './configs.js';
import { PIN_PER_OP, STUDY_CONFIGS, configuration, isOneOf, parseConfiguration } from './configs.js';
import { BenchUsageError } from './errors.js';
import type { Pattern } from './patterns.js';
import { FORK_EVERY, parsePattern } from './patterns.js';
import type { Suite } from './record.js';
import { SUITES } from './record.js';
import { MAX_SIZE, parseSize, parseSizeRange } from './sizes.js';

export interface BenchOptions {
  /** `tsmpi bench study`: every configuration × pattern, tables, JSON and the HTML report. */
  study: boolean;
  suites: Suite[];
  configs: Configuration[];
  patterns: Pattern[];
  /** Add the kernel-initiated case: mlock×hooks and mlock×notifier under migrate:K. */
  migration: boolean;
  /** The study's non-contiguous case: latency of a strided vector, strided:pack and strided:sge under every policy but the pipeline. */
  noncontig: boolean;
  sizes: [number, number];
  /** Timed iterations for small messages (large ones get fewer, see sizes.ts). */
  iterations: number;
  /** Upper bound on iterations × size per cell, bytes (bounds wall-clock time at large sizes). */
  byteBudget: number;
  /** Messages per window in bw / bibw (OSU: 64) and the bytes a window may hold at most. */
  window: number;
  windowBytes: number;
  /** Cost-model preset for the virtual clock. */
  cost: string;
  /** Eager/rendezvous threshold, bytes (undefined: the runtime's default). */
  eager: number | undefined;
  /** Registration-cache region limit (rotate:N thrashes when N exceeds it). */
  maxRegions: number;
  /** Directory for OSU text files, the JSON and the HTML report; undefined: no files. */
  out: string | undefined;
  /** JSON file (default <out>/results.json when --out is given). */
  json: string | undefined;
  progress: boolean;
  /** Validate a JSON file against the schema and exit. */
  check: string | undefined;
  help: boolean;
  /** Each job's two nodes as two OS processes (tsmpi run --procs); virtual times as in one process. */
  procs?: boolean;
  /** --trace DIR: one Chrome trace-event file per job (cell) in DIR (opt-in: tracing costs wall time). */
  traceDir?: string;
  /** exact (deterministic virtual time, the default) or fast (unsynchronised ranks; every output says so). */
  timing: TimingKind;
}

/** The short study `npm start` runs (< 2 minutes on 2 cores). */
export const SHORT = { iterations: 100, byteBudget: 16 * 1024 * 1024 } as const;
/** `--full`: OSU's counts (1000 small-message iterations), a larger byte budget. */
export const FULL = { iterations: 1000, byteBudget: 512 * 1024 * 1024 } as const;

export const DEFAULT_MAX_REGIONS = 8;

export const USAGE = `usage: tsmpi bench [study] [latency|bw|bibw|allreduce ...] [options]

  study                     the pin-per-op vs cached-registration study: every configuration
                            (pin-per-op, pipeline, pinning×none|hooks|notifier, odp×notifier) × pattern
                            (reuse, rotate:N, churn, fork:2) plus the migration case (mlock×hooks|notifier)
                            and the non-contiguous case (latency of a strided vector, strided:pack|sge)
  latency bw bibw allreduce OSU-style suites (default: latency; the study: latency and bw)
  intranode                 shm, CMA, XPMEM and RDMA loopback between two ranks of one node
                            (its own options: tsmpi bench intranode --help)

options
  --fabric pinning,odp      adapters to run (with --rcache: their cross product)
  --rcache off,none,hooks,notifier
                            registration policies (off = pin-per-op)
  --config F:P              one configuration, e.g. pinning:notifier, odp:notifier, mlock:hooks, pin-per-op,
                            pipeline (pin-per-op in 1 MiB chunks), pinning:notifier:pipeline
  --pattern P               reuse | rotate:N | churn | migrate:K | fork:K | strided:pack|sge (repeatable, or a comma list)
  --sizes MIN:MAX           message sizes, powers of two (default 1:16M)
  --iterations N            timed iterations for small messages (default ${SHORT.iterations}; --full: ${FULL.iterations})
  --full                    OSU-like iteration counts (slow: minutes to hours)
  --cost edr|hdr|ndr        cost-model preset of the virtual clock (default hdr)
  --eager BYTES             eager/rendezvous threshold (default: the runtime's, 12K)
  --max-regions N           registration-cache region limit under rotate:N (default ${DEFAULT_MAX_REGIONS}; other patterns: unlimited)
  --window N                messages per window in bw/bibw (default 64)
  --out DIR                 write OSU text files, results.json and report.html there
  --trace DIR               write a timeline per job (Chrome trace-event JSON, DIR/<job>.json; see tsmpi trace)
                            (the study's default: tsmpi-study)
  --json FILE               write the JSON records to FILE
  --no-migration            leave out the study's migration case (mlock×hooks|notifier)
  --no-noncontig            leave out the study's non-contiguous case (latency of a strided vector,
                            strided:pack and strided:sge, under every configuration but pipeline)
  --timing exact|fast       exact (default): virtual time identical run after run; fast: ranks are not
                            synchronised, results may differ between runs (marked in every output)
  --procs                   run each job's two nodes as two OS processes over TCP (as tsmpi run --procs)
  --no-progress             no progress bar on stderr
  --check FILE              validate a JSON file against the schema (bench/README.md) and exit
  -h, --help                this text
`;

function list(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new BenchUsageError(`${flag} ${v}: expected a positive integer`);
  return n;
}

export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  let study = false;
  const suites: Suite[] = [];
  const fabrics: FabricKind[] = [];
  const rcaches: RcachePolicy[] = [];
  const explicit: Configuration[] = [];
  const patterns: Pattern[] = [];
  let sizes: [number, number] | undefined;
  let iterations: number | undefined;
  let full = false;
  let cost = 'hdr';
  let eager: number | undefined;
  let maxRegions = DEFAULT_MAX_REGIONS;
  let window = 64;
  let out: string | undefined;
  let json: string | undefined;
  let progress = true;
  let noMigration = false;
  let noNoncontig = false;
  let check: string | undefined;
  let help = false;
  let procs = false;
  let traceDir: string | undefined;
  let timing: TimingKind = 'exact';

  const args = [...argv];
  const value = (flag: string, inline: string | undefined): string => {
    const v = inline ?? args.shift();
    if (v === undefined || (inline === undefined && v.startsWith('--'))) {
      throw new BenchUsageError(`${flag} needs a value (see tsmpi bench --help)`);
    }
    return v;
  };
  while (args.length > 0) {
    const a = args.shift()!;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const inline = eq > 0 ? a.slice(eq + 1) : undefined;
    switch (flag) {
      case 'study':
        study = true;
        break;
      case '--fabric':
        for (const f of list(value(flag, inline))) {
          if (!isOneOf(FABRICS, f)) throw new BenchUsageError(`--fabric ${f}: unknown adapter; use one of ${FABRICS.join(', ')}`);
          fabrics.push(f);
        }
        break;
      case '--rcache':
        for (const r of list(value(flag, inline))) {
          if (!isOneOf(RCACHE_POLICIES, r)) {
            throw new BenchUsageError(`--rcache ${r}: unknown policy; use one of ${RCACHE_POLICIES.join(', ')}`);
          }
          rcaches.push(r);
        }
        break;
      case '--config':
        for (const c of list(value(flag, inline))) explicit.push(parseConfiguration(c));
        break;
      case '--pattern':
        for (const p of list(value(flag, inline))) patterns.push(parsePattern(p));
        break;
      case '--sizes':
        sizes = parseSizeRange(value(flag, inline));
        break;
      case '--iterations':
        iterations = positiveInt(flag, value(flag, inline));
        break;
      case '--full':
        full = true;
        break;
      case '--cost': {
        const c = value(flag, inline);
        if (!(c in presets)) throw new BenchUsageError(`--cost ${c}: unknown preset; use one of ${Object.keys(presets).join(', ')}`);
        cost = c;
        break;
      }
      case '--eager':
        eager = parseSize(value(flag, inline), flag);
        break;
      case '--max-regions':
        maxRegions = positiveInt(flag, value(flag, inline));
        break;
      case '--window':
        window = positiveInt(flag, value(flag, inline));
        break;
      case '--out':
        out = value(flag, inline);
        break;
      case '--json':
        json = value(flag, inline);
        break;
      case '--no-progress':
        progress = false;
        break;
      case '--no-migration':
        noMigration = true;
        break;
      case '--no-noncontig':
        noNoncontig = true;
        break;
      case '--timing':
        timing = parseTiming(value(flag, inline));
        break;
      case '--procs':
        procs = true;
        break;
      case '--trace':
        traceDir = value(flag, inline);
        break;
      case '--check':
        check = value(flag, inline);
        break;
      case '-h':
      case '--help':
        help = true;
        break;
      default:
        if ((SUITES as readonly string[]).includes(a)) {
          suites.push(a as Suite);
          break;
        }
        throw new BenchUsageError(`unknown argument "${a}": expected study, a suite (${SUITES.join(', ')}) or an option (see tsmpi bench --help)`);
    }
  }

  let configs: Configuration[];
  if (explicit.length > 0 || fabrics.length > 0 || rcaches.length > 0) {
    const fs = fabrics.length > 0 ? fabrics : (['pinning'] as FabricKind[]);
    const rs = rcaches.length > 0 ? rcaches : (['off', 'notifier'] as RcachePolicy[]);
    configs = [...explicit];
    if (fabrics.length > 0 || rcaches.length > 0) for (const f of fs) for (const r of rs) configs.push(configuration(f, r));
  } else {
    configs = study ? [...STUDY_CONFIGS] : [PIN_PER_OP, configuration('pinning', 'notifier')];
  }
  configs = dedupe(configs, (c) => c.id);

  let migration = false;
  let noncontig = false;
  if (patterns.length === 0) {
    if (study) {
      patterns.push({ kind: 'reuse' }, { kind: 'rotate', buffers: maxRegions + 2 }, { kind: 'churn' }, { kind: 'fork', every: FORK_EVERY });
      migration = !noMigration;
      noncontig = !noNoncontig;
    } else {
      patterns.push({ kind: 'reuse' });
    }
  }

  const counts = full ? FULL : SHORT;
  const others = suites.filter((x) => x !== 'latency');
  if (patterns.some((p) => p.kind === 'strided') && (suites.length === 0 ? study : others.length > 0)) {
    throw new BenchUsageError(`pattern strided:pack|sge runs the latency suite only (one message per buffer), not ${suites.length === 0 ? 'latency and bw' : others.join(', ')}: add latency alone`);
  }
  if (traceDir !== undefined && procs) throw new BenchUsageError('--trace runs the jobs in one process for now: drop --procs to record timelines');
  return {
    ...(procs ? { procs } : {}),
    ...(traceDir !== undefined ? { traceDir } : {}),
    timing,
    study,
    // The study runs ping-pong (per-message cost, both registrations in series) and the windowed
    // bandwidth test (sender and receiver register in parallel; the link is the limit).
    suites: suites.length > 0 ? dedupe(suites, (s) => s) : study ? ['latency', 'bw'] : ['latency'],
    configs,
    patterns: dedupe(patterns, (p) => JSON.stringify(p)),
    migration,
    noncontig,
    sizes: sizes ?? [1, MAX_SIZE],
    iterations: iterations ?? counts.iterations,
    byteBudget: counts.byteBudget,
    window,
    // a window holds at most 32 MiB: with rotate:N, N windows of it live at once per rank
    windowBytes: 32 * 1024 * 1024,
    cost,
    eager,
    maxRegions,
    out: out ?? (study ? 'tsmpi-study' : undefined),
    json,
    progress,
    check,
    help,
  };
}

function dedupe<T>(xs: T[], key: (x: T) => string): T[] {
  const seen = new Set<string>();
  return xs.filter((x) => {
    const k = key(x);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

