import { totalmem } from 'node:os';
import type { CostModel } from '@tsmpi/fabric';
import { UsageError } from './errors.js';
import { BouncePool } from './p2p/bounce.js';
import { ENVELOPE_BYTES } from './p2p/envelope.js';
import { resolveCost } from './launcher/nodes.js';
import type { JobOptions } from './options.js';

/** An option's name, as the user gave it: a flag (--mem), a variable (TSMPI_MEM) or a runJob key. */
export type OptionKey = keyof JobOptions | 'np';
export type OptionLabels = Partial<Record<OptionKey, string>>;

/** The flag of each option; a message names it unless the value came from elsewhere (labels). */
export const OPTION_FLAGS: OptionLabels = {
  np: '-n', nodes: '--nodes', fabric: '--fabric', rcache: '--rcache', eagerThreshold: '--eager', cost: '--cost',
  memBytes: '--mem', memlock: '--memlock', stats: '--stats', deadlockMs: '--deadlock-ms', pinMode: '--pin-mode',
  rcacheMaxRegions: '--rcache-max-regions', intra: '--intra', compute: '--compute', timing: '--timing', inject: '--inject',
  noncontig: '--noncontig',
};

/** The TSMPI_* variable of each option (optionsFromEnv reads these). */
export const OPTION_VARIABLES: OptionLabels = {
  np: 'TSMPI_NP', nodes: 'TSMPI_NODES', fabric: 'TSMPI_FABRIC', rcache: 'TSMPI_RCACHE', eagerThreshold: 'TSMPI_EAGER',
  cost: 'TSMPI_COST', memBytes: 'TSMPI_MEM', memlock: 'TSMPI_MEMLOCK', stats: 'TSMPI_STATS', deadlockMs: 'TSMPI_DEADLOCK_MS',
  pinMode: 'TSMPI_PIN_MODE', rcacheMaxRegions: 'TSMPI_RCACHE_MAX_REGIONS', intra: 'TSMPI_INTRA', compute: 'TSMPI_COMPUTE',
  timing: 'TSMPI_TIMING', inject: 'TSMPI_INJECT', noncontig: 'TSMPI_NONCONTIG',
};

/** "--fabric zz" for a flag, "TSMPI_FABRIC=zz" for a variable: the way the user wrote it. */
export function shown(label: string, value: string | number): string {
  return /^TSMPI_/.test(label) ? `${label}=${value}` : `${label} ${value}`;
}

export function labelOf(key: OptionKey, labels: OptionLabels = {}): string {
  return labels[key] ?? OPTION_FLAGS[key] ?? key;
}

/** Largest eager threshold: beyond it the eight bounce slots per rank would not fit a node's memory anyway. */
export const MAX_EAGER_BYTES = 64 * 1024 * 1024;
export const MIN_MEM_BYTES = 1024 * 1024;
/** A page-table entry indexes at most 2^25 - 1 frames (vm's MAX_PTE_INDEX): 128 GiB of 4 KiB pages. */
const MAX_FRAMES = 2 ** 25 - 1;
/**
 * Queue pairs one adapter offers (what a ConnectX-6 reports as max_qp). They are made on first use, one
 * per pair of ranks that talk, so a job is not refused up front for them: running out is an error at the
 * connection that finds none left (rank/connections.ts).
 */
export const MAX_QUEUE_PAIRS = 262_144;
/** Host memory one rank's worker thread takes (measured: ~20 MiB each at -n 64, hello.ts). */
export const HOST_BYTES_PER_RANK = 24 * 1024 * 1024;

const mib = (n: number) => (n >= 1024 * 1024 ? `${Math.ceil(n / (1024 * 1024))}M` : `${Math.ceil(n / 1024)}K`);

/** A size as a user would write it back: 900G, 12K, 4097, unlimited. */
export function sizeText(n: number): string {
  if (n === Infinity) return 'unlimited';
  for (const [unit, k] of [['G', 2 ** 30], ['M', 2 ** 20], ['K', 2 ** 10]] as const) {
    if (n >= k && n % k === 0) return `${n / k}${unit}`;
  }
  return String(n);
}

/** Ranges of the size options, before anything is built. */
export function checkRanges(o: JobOptions, labels: OptionLabels = {}): void {
  const eager = labelOf('eagerThreshold', labels);
  if (!Number.isSafeInteger(o.eagerThreshold) || o.eagerThreshold < 0 || o.eagerThreshold > MAX_EAGER_BYTES) {
    throw new UsageError(`${shown(eager, sizeText(o.eagerThreshold))}: the eager threshold must be 0 to 64M bytes (default 12K)`);
  }
  const mem = labelOf('memBytes', labels);
  if (!Number.isSafeInteger(o.memBytes) || o.memBytes < MIN_MEM_BYTES) {
    throw new UsageError(`${shown(mem, sizeText(o.memBytes))}: memory per node must be 1M to 127G bytes (default 256M)`);
  }
  const memlock = labelOf('memlock', labels);
  if (!(o.memlock >= 0) || (Number.isFinite(o.memlock) && !Number.isSafeInteger(o.memlock))) {
    throw new UsageError(`${shown(memlock, sizeText(o.memlock))}: the locked-memory limit must be 0 bytes or more, or unlimited (default 8M)`);
  }
}

/**
 * What the nodes can hold, checked before any thread starts: a node's physical memory in whole pages
 * (at most 2^25 - 1 of them) and every rank's pinned bounce buffers within it.
 */
export function checkCapacity(np: number, o: JobOptions, cost: CostModel, labels: OptionLabels = {}): void {
  const mem = labelOf('memBytes', labels);
  const page = cost.pageSize;
  if (o.memBytes % page !== 0) {
    throw new UsageError(`${shown(mem, sizeText(o.memBytes))}: memory per node must be a whole number of ${page}-byte pages (e.g. ${mib(o.memBytes)})`);
  }
  if (o.memBytes / page > MAX_FRAMES) {
    throw new UsageError(`${shown(mem, sizeText(o.memBytes))}: memory per node must be 1M to ${sizeText(Math.floor((MAX_FRAMES * page) / 2 ** 30) * 2 ** 30)} bytes with ${page}-byte pages`);
  }
  const perNode = Math.ceil(np / o.nodes); // block placement: node 0 holds the most
  const bounce = BouncePool.layout(ENVELOPE_BYTES, o.eagerThreshold, page).bytes;
  if (perNode * bounce > o.memBytes) {
    const n = labelOf('np', labels);
    throw new UsageError(
      `${shown(n, np)}: the ${perNode} ranks on one node need ${perNode * bounce} bytes of eager bounce buffers (${bounce} each at ` +
        `${shown(labelOf('eagerThreshold', labels), sizeText(o.eagerThreshold))}), more than ${shown(mem, sizeText(o.memBytes))}: ` +
        `raise ${mem} to at least ${mib(perNode * bounce)}, spread the ranks over more ${labelOf('nodes', labels)}, or lower ${labelOf('eagerThreshold', labels)}`,
    );
  }
}

/** The cost model the job will use; a bad file is a usage error naming the option, not a stack. */
export function checkedCost(o: JobOptions, labels: OptionLabels = {}): CostModel {
  try {
    return resolveCost(o.cost);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const label = labelOf('cost', labels);
    const what = typeof o.cost === 'string' ? shown(label, o.cost) : label;
    const why = (e as Error).message.replace(/^cost model( file [^:]*)?: /, '');
    throw new UsageError(`${what}: ${why} (a cost file is a JSON object of non-negative numbers; presets: hdr, edr, ndr)`);
  }
}

/** Each rank is a worker thread of this process: refuse a count the host's memory cannot hold. */
export function checkHostCapacity(ranksHere: number, labels: OptionLabels = {}, hostBytes = totalmem()): void {
  const most = Math.max(1, Math.floor((hostBytes * 0.75) / HOST_BYTES_PER_RANK));
  if (ranksHere > most) {
    throw new UsageError(
      `${shown(labelOf('np', labels), ranksHere)}: ${ranksHere} ranks in one process need about ${mib(ranksHere * HOST_BYTES_PER_RANK)} of host memory ` +
        `(${mib(HOST_BYTES_PER_RANK)} per rank thread); this host holds at most ${most}: use fewer ranks, or run the nodes as ` +
        `separate processes (--nodes K --procs, or mpiexec) on more hosts`,
    );
  }
}
