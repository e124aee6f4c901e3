import {
  UsageError, formatCompute, optionsFromEnv, parseCompute, parseBytes, parseFabric, parseIntra, parsePinMode, parsePositiveInt, parseRcache, parseTiming, parseRndv, parseInject, parseNoncontig, OPTION_VARIABLES, type JobOptions,
  type OptionKey, type OptionLabels,
} from '@tsmpi/mpi';
import { parseTraceClock, type JobTraceOption, type TraceClock } from '@tsmpi/mpi';

export interface RunCommand {
  np: number;
  options: Partial<JobOptions>;
  program: string;
  args: string[];
  /** --procs: each node an OS process on this host (tsmpi serves them PMI-1 itself). */
  procs?: boolean;
  /** --iface NAME: the interface whose address node processes listen on. */
  iface?: string;
  /** --trace FILE [--trace-clock virtual|wall]: write a Chrome trace-event timeline. */
  trace?: JobTraceOption;
  /** How each option was given (a flag or a TSMPI_* variable), so an error names what the user wrote. */
  labels: OptionLabels;
}

const FLAG_KEYS: Record<string, OptionKey> = {
  '-n': 'np', '-np': 'np', '--np': 'np', '--n': 'np', '--nodes': 'nodes', '--fabric': 'fabric', '--rcache': 'rcache',
  '--intra': 'intra', '--compute': 'compute', '--timing': 'timing', '--rndv': 'rndv', '--pin-mode': 'pinMode',
  '--rcache-max-regions': 'rcacheMaxRegions', '--eager': 'eagerThreshold', '--cost': 'cost', '--mem': 'memBytes',
  '--memlock': 'memlock', '--deadlock-ms': 'deadlockMs', '--stats': 'stats', '--inject': 'inject',
  '--noncontig': 'noncontig',
};

export const RUN_USAGE = `usage: tsmpi run -n N [options] prog.ts [args...]

  -n, -np, --np N          number of ranks (or TSMPI_NP)
  --nodes K                simulated nodes; ranks are placed in blocks (TSMPI_NODES, default 1)
  --fabric pinning|odp     adapter model of every node (TSMPI_FABRIC, default pinning)
  --rcache off|none|hooks|notifier
                           registration policy: off = register per operation; the others cache,
                           told about freed memory by nobody / malloc hooks / the mmu notifier
                           (TSMPI_RCACHE, default notifier)
  --intra rdma|shm|cma|xpmem|auto
                           transport between ranks of one node: adapter loopback, shared-memory
                           double copy, CMA or XPMEM single copy, or auto = shm below the eager
                           threshold and xpmem above (TSMPI_INTRA, default rdma)
  --pin-mode pin|mlock     how the pinning adapter holds registered pages: pinned, or only mlocked
                           (migration still moves mlocked pages) (TSMPI_PIN_MODE, default pin)
  --rcache-max-regions N   most regions each rank's cache keeps; unused ones are evicted beyond it
                           (TSMPI_RCACHE_MAX_REGIONS, default unlimited)
  --compute measured[:F]|none
                           the program's own work on the virtual clock: measured = the wall time a
                           rank spends between runtime calls (× F) is added to wtime(); none = only the
                           modelled communication counts, deterministic (TSMPI_COMPUTE, default measured)
  --timing exact|fast      exact = ranks synchronised in virtual time, so clocks and counters are the
                           same in every run (TSMPI_TIMING, default exact); fast = unsynchronised
  --rndv whole|pipeline[:CHUNK]|auto
                           how a rendezvous moves a large message: whole (one registration), pipeline
                           (CHUNK-byte pieces, default 1M, 4 in flight, each registered and released)
                           or auto = whole when it fits the locked memory left (TSMPI_RNDV, default auto)
  --noncontig auto|pack|sge
                           how a non-contiguous send (a derived datatype with gaps) travels: pack (copy
                           into one run), sge (scatter/gather RDMA reads, over the adapter at rendezvous
                           sizes) or auto = the rule in mpi's p2p/noncontig.ts (TSMPI_NONCONTIG, default auto)
  --inject SPEC            inject faults, seeded: reg-enomem:RATE, reg-efault:RATE (a user-buffer registration
                           fails), odp-storm:RATE, mem-pressure:RATE (per virtual ms), qp-error:T (µs),
                           link-down:START+LENGTH (µs), stall:MS (wall ms a woken rank thread is held),
                           seed:N; e.g. reg-enomem:0.05,seed:3 (TSMPI_INJECT)
  --fork-safe              as ibv_fork_init(): mark every registered range MADV_DONTFORK, so a fork()
                           child never shares the pages the adapter reads (TSMPI_FORK_SAFE=1)
  --eager BYTES            messages below this go eager, the rest by rendezvous (TSMPI_EAGER, default 12K)
  --cost hdr|edr|ndr|FILE  cost model preset or JSON file (TSMPI_COST, default hdr)
  --mem BYTES              physical memory per node (TSMPI_MEM, default 256M)
  --memlock BYTES          locked-memory limit per rank, or 'unlimited' (TSMPI_MEMLOCK, default 8M)
  --deadlock-ms MS         how long every rank must be stuck (each having looked for work and found none)
                           before a deadlock is reported (default 1500)
  --stats                  print per-rank and job counters at the end (TSMPI_STATS=1)
  --trace FILE             write a timeline of every rank (Chrome trace-event JSON: open it in
                           ui.perfetto.dev, or tsmpi trace summary|view FILE)
  --trace-clock virtual|wall  the trace's timestamps: modeled virtual µs (default) or wall-clock µs
  --procs                  run each of the --nodes K nodes as its own OS process on this host, wired
                           up through tsmpi's own PMI-1 server (as mpiexec would)
  --iface NAME             interface (or address) node processes listen on (TSMPI_IFACE; default the
                           host name's address, 127.0.0.1 when every node is on this host)

Under mpiexec (MPICH Hydra) or srun --mpi=pmi2, \`tsmpi run\` becomes one node of the job: start one
process per node (mpiexec -n K tsmpi run -n N prog.ts); TSMPI_PMI=1|2 picks the PMI protocol.

Options after the program name are the program's own (process.argv.slice(2) in every rank).
Exit status: 0 success; 1 a rank threw; the rank's code for exit(n)/abort(n); 2 deadlock; 64 usage error.`;

/** Parses `run`'s arguments; flags override TSMPI_* variables. Throws UsageError with the problem and the fix. */
export function parseRunArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): RunCommand {
  const fromEnv = optionsFromEnv(env);
  const labels: OptionLabels = {};
  for (const key of Object.keys(fromEnv) as OptionKey[]) labels[key] = OPTION_VARIABLES[key] ?? `TSMPI_${key.toUpperCase()}`;
  let np = fromEnv.np;
  const options: Partial<JobOptions> = { ...fromEnv };
  delete (options as { np?: number }).np;
  // what a user's wtime() means: their program's own work counts (runJob's default is none)
  options.compute ??= 'measured';
  let i = 0;
  let procs = false;
  let iface: string | undefined;
  let traceFile: string | undefined;
  let traceClock: TraceClock | undefined;
  const value = (flag: string, inline: string | undefined): string => {
    if (inline !== undefined) return inline;
    const v = argv[++i];
    if (v === undefined) throw new UsageError(`${flag} needs a value\n\n${RUN_USAGE}`);
    return v;
  };
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-') || a === '-') break;
    if (a === '--') {
      i++;
      break;
    }
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const inline = eq > 0 ? a.slice(eq + 1) : undefined;
    switch (flag) {
      case '-n': case '-np': case '--np': case '--n':
        np = parsePositiveInt(value(flag, inline), flag);
        break;
      case '--nodes':
        options.nodes = parsePositiveInt(value(flag, inline), flag);
        break;
      case '--fabric':
        options.fabric = parseFabric(value(flag, inline));
        break;
      case '--rcache':
        options.rcache = parseRcache(value(flag, inline));
        break;
      case '--intra':
        options.intra = parseIntra(value(flag, inline));
        break;
      case '--compute':
        options.compute = formatCompute(parseCompute(value(flag, inline)));
        break;
      case '--timing':
        options.timing = parseTiming(value(flag, inline));
        break;
      case '--rndv':
        options.rndv = value(flag, inline);
        parseRndv(options.rndv);
        break;
      case '--noncontig':
        options.noncontig = parseNoncontig(value(flag, inline));
        break;
      case '--pin-mode':
        options.pinMode = parsePinMode(value(flag, inline));
        break;
      case '--rcache-max-regions':
        options.rcacheMaxRegions = parsePositiveInt(value(flag, inline), flag);
        break;
      case '--eager':
        options.eagerThreshold = parseBytes(value(flag, inline), flag);
        break;
      case '--cost':
        options.cost = value(flag, inline);
        break;
      case '--mem':
        options.memBytes = parseBytes(value(flag, inline), flag);
        break;
      case '--memlock':
        options.memlock = parseBytes(value(flag, inline), flag);
        break;
      case '--deadlock-ms':
        options.deadlockMs = parsePositiveInt(value(flag, inline), flag);
        break;
      case '--stats':
        options.stats = true;
        break;
      case '--fork-safe':
        options.forkSafe = true;
        break;
      case '--inject':
        options.inject = value(flag, inline);
        parseInject(options.inject);
        break;
      case '--procs':
        procs = true;
        break;
      case '--trace':
        traceFile = value(flag, inline);
        break;
      case '--trace-clock':
        traceClock = parseTraceClock(value(flag, inline));
        break;
      case '--iface':
        iface = value(flag, inline);
        break;
      default:
        throw new UsageError(`unknown option ${a}\n\n${RUN_USAGE}`);
    }
    const key = FLAG_KEYS[flag];
    if (key) labels[key] = flag;
  }
  const program = argv[i];
  if (program === undefined) throw new UsageError(`no program given\n\n${RUN_USAGE}`);
  if (np === undefined) throw new UsageError(`how many ranks? give -n N (or set TSMPI_NP)\n\n${RUN_USAGE}`);
  if (traceClock && !traceFile) throw new UsageError('--trace-clock without --trace: give the file too (--trace run.json)');
  const trace: JobTraceOption | undefined = traceFile === undefined ? undefined : traceClock ? { file: traceFile, clock: traceClock } : traceFile;
  return { np, options, labels, program, args: argv.slice(i + 1), ...(procs ? { procs } : {}), ...(iface !== undefined ? { iface } : {}), ...(trace !== undefined ? { trace } : {}) };
}
