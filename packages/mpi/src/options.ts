import { ADAPTER_KINDS, PIN_MODES, type AdapterKind, type PinMode } from '@tsmpi/fabric';
import { POLICIES, type Policy } from '@tsmpi/rcache';
import { formatCompute, parseCompute } from './compute.js';
import { DEFAULT_TUNING, applyTuning, tuningFromEnv, type CollectiveTuning } from './collective-tuning.js';
import { UsageError } from './errors.js';
import { parseInject } from './inject.js';
import { parseNoncontig, type NoncontigMode } from './p2p/noncontig.js';
import { checkCapacity, checkRanges, checkedCost, labelOf, shown, type OptionLabels } from './option-checks.js';

// The names belong to the layers that implement them; the job's options only re-export them.
export type FabricKind = AdapterKind;
export type RcachePolicy = Policy;
export type { PinMode };
export { PIN_MODES };
export const FABRICS: readonly FabricKind[] = ADAPTER_KINDS;
export const RCACHE_POLICIES: readonly RcachePolicy[] = POLICIES;
/** Transport between ranks of one node (--intra; what each does: p2p/intra.ts, which protocol it picks: p2p/select.ts). */
export type IntraKind = 'rdma' | 'shm' | 'cma' | 'xpmem' | 'auto';
export const INTRA_KINDS: readonly IntraKind[] = ['rdma', 'shm', 'cma', 'xpmem', 'auto'];

/** The knobs of a job: `tsmpi run` flags, TSMPI_* variables and runJob() options all land here. */
export interface JobOptions {
  /** Simulated nodes; ranks are spread over them in blocks. */
  nodes: number;
  /** Adapter model of every node. */
  fabric: FabricKind;
  /** Registration policy of every rank. */
  rcache: RcachePolicy;
  /** Messages of at least this many bytes go by rendezvous; shorter ones are eager. */
  eagerThreshold: number;
  /** Cost model: a preset name ('hdr', 'edr', 'ndr'), a JSON file path, or an object of overrides. */
  cost: string | Record<string, unknown>;
  /** Physical memory per node, bytes. */
  memBytes: number;
  /** Locked-memory limit per rank (RLIMIT_MEMLOCK), bytes; Infinity for unlimited. */
  memlock: number;
  /** Print per-rank and job counters at the end (CLI). */
  stats: boolean;
  /** Wall-clock ms with every rank blocked and nothing moving before a deadlock is declared. */
  deadlockMs: number;
  /**
   * How the pinning adapter holds registered pages: 'pin' (default) or 'mlock', the historical
   * variant whose pages migrate() still moves, so its frame snapshot goes stale.
   */
  pinMode: PinMode;
  /** Most regions a rank's registration cache keeps (unused ones are evicted beyond it); Infinity = no limit. */
  rcacheMaxRegions: number;
  /** Transport between ranks of one node: rdma (adapter loopback), shm, cma, xpmem, or auto. */
  intra: IntraKind;
  /** Switch points of the collective algorithms (TSMPI_COLL_*; a partial set is filled from MPICH's defaults). */
  collectiveTuning: CollectiveTuning;
  /**
   * The program's own work on the virtual clock (src/compute.ts): 'none' (runJob's default: virtual
   * time from the model alone, deterministic) or 'measured[:FACTOR]' (tsmpi run's default: wall time
   * between runtime calls × FACTOR).
   */
  compute: string;
  /**
   * 'exact' (the default): ranks are synchronised conservatively in virtual time, so a run's clocks,
   * counters and bytes do not depend on thread timing (src/timing/horizon.ts). 'fast': every rank
   * runs as far as it can; shared resources are served in the order threads reach them.
   */
  timing: TimingKind;
  /**
   * How a rendezvous over the adapter moves a message: 'whole' (one registration of the whole buffer),
   * 'pipeline[:CHUNK]' (chunks of CHUNK bytes, default 1 MiB, at most 4 in flight, each registered and
   * released: Open MPI ob1's pipeline protocol) or 'auto' (the default: whole when the buffer's
   * registration fits the locked-memory budget left, pipeline otherwise).
   */
  rndv: string;
  /**
   * ibv_fork_init() / RDMAV_FORK_SAFE: every range the rank registers is marked MADV_DONTFORK as it is
   * registered, so a fork() child does not share (copy-on-write) the pages the adapter reads.
   */
  forkSafe: boolean;
  /** Faults to inject (src/inject.ts): '' for none, or e.g. 'reg-enomem:0.1,seed:7'. */
  inject: string;
  /**
   * Non-contiguous sends (derived datatypes with gaps): 'auto' (the default: p2p/noncontig.ts's rule),
   * 'pack' (always copy into one run) or 'sge' (scatter/gather RDMA reads wherever the path allows).
   */
  noncontig: string;
}

export type RndvMode = 'whole' | 'pipeline' | 'auto';
/** --rndv parsed: the mode, and the pipeline's chunk size (also auto's, when it falls back). */
export interface RndvSetting {
  mode: RndvMode;
  chunk: number;
  /** --noncontig: a non-contiguous send packed, or by the scatter/gather rendezvous (p2p/noncontig.ts; default auto) */
  noncontig?: NoncontigMode;
  /** the adapter's max_sge: local pieces one RDMA read of the scatter/gather rendezvous carries (default 30) */
  maxSge?: number;
}
export const DEFAULT_PIPELINE_CHUNK = 1024 * 1024;

export function parseRndv(text: string): RndvSetting {
  const [mode, chunkText, ...rest] = text.split(':');
  if (rest.length === 0 && (mode === 'whole' || mode === 'auto' || mode === 'pipeline')) {
    if (chunkText === undefined) return { mode, chunk: DEFAULT_PIPELINE_CHUNK };
    if (mode === 'pipeline') {
      const chunk = parseBytes(chunkText, '--rndv pipeline:CHUNK');
      if (Number.isSafeInteger(chunk) && chunk >= 4096) return { mode, chunk };
      throw new UsageError(`--rndv ${text}: the chunk must be a whole number of bytes, at least 4K (e.g. pipeline:1M)`);
    }
  }
  throw new UsageError(`--rndv ${text}: use whole, pipeline, pipeline:CHUNK (e.g. pipeline:512K) or auto (the default)`);
}

export type TimingKind = 'exact' | 'fast';
export const TIMING_KINDS: readonly TimingKind[] = ['exact', 'fast'];

export function parseTiming(text: string, what = '--timing'): TimingKind {
  if ((TIMING_KINDS as readonly string[]).includes(text)) return text as TimingKind;
  throw new UsageError(`${shown(what, text)}: use exact (deterministic virtual time, the default) or fast (unsynchronised ranks)`);
}

export const DEFAULT_OPTIONS: JobOptions = {
  nodes: 1,
  fabric: 'pinning',
  rcache: 'notifier',
  eagerThreshold: 12 * 1024,
  cost: 'hdr',
  memBytes: 256 * 1024 * 1024,
  memlock: 8 * 1024 * 1024,
  stats: false,
  deadlockMs: 1500,
  intra: 'rdma',
  pinMode: 'pin',
  rcacheMaxRegions: Infinity,
  collectiveTuning: DEFAULT_TUNING,
  compute: 'none',
  timing: 'exact',
  rndv: 'auto',
  forkSafe: false,
  inject: '',
  noncontig: 'auto',
};

const UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 1024, kb: 1000, kib: 1024,
  m: 1024 ** 2, mb: 1000 ** 2, mib: 1024 ** 2,
  g: 1024 ** 3, gb: 1000 ** 3, gib: 1024 ** 3,
};

/** '12K', '12KiB', '1m', '4096', 'unlimited' → bytes. K/M/G alone are binary (as ulimit and mpirun take them). */
export function parseBytes(text: string, what: string): number {
  const t = text.trim().toLowerCase();
  if (t === 'unlimited' || t === 'infinity' || t === 'inf') return Infinity;
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(t);
  const unit = m ? UNITS[m[2]!] : undefined;
  if (!m || unit === undefined) {
    throw new UsageError(`${what}: cannot read '${text}' as a size; write e.g. 4096, 12K, 12KiB, 1M or unlimited`);
  }
  return Math.round(Number(m[1]) * unit);
}

export function parseFabric(text: string, what = '--fabric'): FabricKind {
  if ((FABRICS as readonly string[]).includes(text)) return text as FabricKind;
  throw new UsageError(`${shown(what, text)}: unknown adapter; use one of ${FABRICS.join(', ')}`);
}

export function parseRcache(text: string, what = '--rcache'): RcachePolicy {
  if ((RCACHE_POLICIES as readonly string[]).includes(text)) return text as RcachePolicy;
  throw new UsageError(`${shown(what, text)}: unknown registration policy; use one of ${RCACHE_POLICIES.join(', ')}`);
}

export function parseIntra(text: string, what = '--intra'): IntraKind {
  if ((INTRA_KINDS as readonly string[]).includes(text)) return text as IntraKind;
  throw new UsageError(`${shown(what, text)}: unknown intra-node transport; use one of ${INTRA_KINDS.join(', ')}`);
}

export function parsePinMode(text: string, what = '--pin-mode'): PinMode {
  if ((PIN_MODES as readonly string[]).includes(text)) return text as PinMode;
  throw new UsageError(`${shown(what, text)}: use pin (pages pinned) or mlock (pages locked; migration still moves them)`);
}

export function parsePositiveInt(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${what}: expected a positive integer, got '${text}'`);
  return n;
}

/** The TSMPI_* environment variables, as partial options (flags given on the command line override them). */
export function optionsFromEnv(env: NodeJS.ProcessEnv): Partial<JobOptions> & { np?: number } {
  const o: Partial<JobOptions> & { np?: number } = {};
  if (env.TSMPI_NP) o.np = parsePositiveInt(env.TSMPI_NP, 'TSMPI_NP');
  if (env.TSMPI_NODES) o.nodes = parsePositiveInt(env.TSMPI_NODES, 'TSMPI_NODES');
  if (env.TSMPI_FABRIC) o.fabric = parseFabric(env.TSMPI_FABRIC, 'TSMPI_FABRIC');
  if (env.TSMPI_RCACHE) o.rcache = parseRcache(env.TSMPI_RCACHE, 'TSMPI_RCACHE');
  if (env.TSMPI_EAGER) o.eagerThreshold = parseBytes(env.TSMPI_EAGER, 'TSMPI_EAGER');
  if (env.TSMPI_COST) o.cost = env.TSMPI_COST;
  if (env.TSMPI_MEM) o.memBytes = parseBytes(env.TSMPI_MEM, 'TSMPI_MEM');
  if (env.TSMPI_MEMLOCK) o.memlock = parseBytes(env.TSMPI_MEMLOCK, 'TSMPI_MEMLOCK');
  if (env.TSMPI_STATS) o.stats = env.TSMPI_STATS !== '0' && env.TSMPI_STATS !== 'false';
  if (env.TSMPI_INTRA) o.intra = parseIntra(env.TSMPI_INTRA, 'TSMPI_INTRA');
  if (env.TSMPI_PIN_MODE) o.pinMode = parsePinMode(env.TSMPI_PIN_MODE, 'TSMPI_PIN_MODE');
  if (env.TSMPI_RCACHE_MAX_REGIONS) o.rcacheMaxRegions = parsePositiveInt(env.TSMPI_RCACHE_MAX_REGIONS, 'TSMPI_RCACHE_MAX_REGIONS');
  if (env.TSMPI_COMPUTE) o.compute = formatCompute(parseCompute(env.TSMPI_COMPUTE));
  if (env.TSMPI_TIMING) o.timing = parseTiming(env.TSMPI_TIMING, 'TSMPI_TIMING');
  if (env.TSMPI_RNDV) o.rndv = env.TSMPI_RNDV;
  if (env.TSMPI_NONCONTIG) o.noncontig = env.TSMPI_NONCONTIG;
  if (env.TSMPI_INJECT) {
    parseInject(env.TSMPI_INJECT, 'TSMPI_INJECT'); // a bad spec is reported as the variable
    o.inject = env.TSMPI_INJECT;
  }
  if (env.TSMPI_FORK_SAFE) o.forkSafe = env.TSMPI_FORK_SAFE !== '0' && env.TSMPI_FORK_SAFE !== 'false';
  const tuning = tuningFromEnv(env);
  if (tuning) o.collectiveTuning = applyTuning(DEFAULT_TUNING, tuning);
  if (env.TSMPI_DEADLOCK_MS) o.deadlockMs = parsePositiveInt(env.TSMPI_DEADLOCK_MS, 'TSMPI_DEADLOCK_MS');
  return o;
}

/**
 * Fills defaults and checks ranges and what the nodes can hold (option-checks.ts); every problem is a
 * UsageError naming the option as the user gave it (`labels`: a flag, a TSMPI_* variable; default the flag).
 */
export function resolveOptions(np: number, partial: Partial<JobOptions> = {}, labels: OptionLabels = {}): JobOptions {
  const o: JobOptions = { ...DEFAULT_OPTIONS, ...stripUndefined(partial) };
  if (!Number.isInteger(np) || np < 1) throw new UsageError(`np must be a positive integer (got ${np})`);
  if (!Number.isInteger(o.nodes) || o.nodes < 1) throw new UsageError(`nodes must be a positive integer (got ${o.nodes})`);
  if (o.nodes > np) throw new UsageError(`${shown(labelOf('nodes', labels), o.nodes)} is more than the ${np} ranks: use at most ${labelOf('np', labels)} nodes`);
  parseFabric(o.fabric);
  parseRcache(o.rcache);
  parseIntra(o.intra);
  parsePinMode(o.pinMode);
  o.collectiveTuning = applyTuning(DEFAULT_TUNING, o.collectiveTuning);
  parseCompute(o.compute);
  parseTiming(o.timing);
  parseRndv(o.rndv);
  parseNoncontig(o.noncontig ?? 'auto', labelOf('noncontig', labels));
  parseInject(o.inject, labelOf('inject', labels));
  if (!(o.rcacheMaxRegions >= 1)) throw new UsageError(`rcacheMaxRegions must be >= 1 or Infinity (got ${o.rcacheMaxRegions})`);
  checkRanges(o, labels);
  checkCapacity(np, o, checkedCost(o, labels), labels);
  return o;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
