import type { JobResult, RankStats } from '@tsmpi/mpi';

/** The columns `--stats` prints: what a reader of a registration-cache study looks at first. */
const COLUMNS: { head: string; get: (s: RankStats) => number; digits?: number }[] = [
  { head: 'virtual_us', get: (s) => s.virtualUs, digits: 2 },
  { head: 'eager', get: (s) => s.messages.eagerSends },
  { head: 'rndv', get: (s) => s.messages.rendezvousSends },
  { head: 'bytes_sent', get: (s) => s.messages.eagerBytesSent + s.messages.rendezvousBytesSent },
  { head: 'bytes_recv', get: (s) => s.messages.bytesReceived },
  { head: 'unexpected', get: (s) => s.messages.unexpectedMessages },
  { head: 'rc_hits', get: (s) => (s.rcache['hitsFast'] ?? 0) + (s.rcache['hitsSlow'] ?? 0) },
  { head: 'rc_misses', get: (s) => (s.rcache['misses'] ?? 0) + (s.rcache['uncached'] ?? 0) },
  { head: 'rc_invalidations', get: (s) => s.rcache['invalidations'] ?? 0 },
  { head: 'mr_reg', get: (s) => s.adapter['registrations'] ?? 0 },
  { head: 'mr_dereg', get: (s) => s.adapter['deregistrations'] ?? 0 },
  { head: 'pinned_pages', get: (s) => s.adapter['pinnedPages'] ?? 0 },
  { head: 'rdma_read_bytes', get: (s) => s.adapter['readBytes'] ?? 0 },
  { head: 'odp_faults', get: (s) => s.adapter['odpFaults'] ?? 0 },
  { head: 'dma_errors', get: (s) => sumPrefix(s.adapter, 'errors.') },
  // where the virtual time went (--compute): the program's own work, the runtime's, waiting
  { head: 'compute_us', get: (s) => s.time?.computeUs ?? 0, digits: 2 },
  { head: 'comm_us', get: (s) => s.time?.communicationUs ?? 0, digits: 2 },
  { head: 'wait_us', get: (s) => s.time?.waitingUs ?? 0, digits: 2 },
];

/** With --intra other than rdma: what the intra-node transports carried. */
const INTRA_COLUMNS: typeof COLUMNS = [
  { head: 'shm_bytes', get: (s) => s.adapter['intra.shmSendBytes'] ?? 0 },
  { head: 'cma_calls', get: (s) => s.adapter['intra.cmaCalls'] ?? 0 },
  { head: 'xpmem_copies', get: (s) => s.adapter['intra.xpmemCopies'] ?? 0 },
  { head: 'attach_hits', get: (s) => s.adapter['intra.attachCacheHits'] ?? 0 },
  { head: 'attach_misses', get: (s) => s.adapter['intra.attachCacheMisses'] ?? 0 },
];

function sumPrefix(o: Record<string, number>, prefix: string): number {
  let n = 0;
  for (const [k, v] of Object.entries(o)) if (k.startsWith(prefix)) n += v;
  return n;
}

/** Per-rank rows and a job total row, aligned; the first line names the configuration. */
export function formatStats(result: JobResult): string {
  const o = result.options;
  const stats = result.ranks.flatMap((r) => (r.stats ? [r.stats] : []));
  const intra = o.intra ?? 'rdma';
  const columns = intra === 'rdma' ? COLUMNS : [...COLUMNS, ...INTRA_COLUMNS];
  const header = ['rank', 'node', ...columns.map((c) => c.head)];
  const rows: string[][] = stats.map((s) => [String(s.rank), String(s.node), ...columns.map((c) => fmt(c.get(s), c.digits))]);
  const total = ['total', '-', ...columns.map((c, i) => fmt(i === 0 ? Math.max(0, ...stats.map(c.get)) : stats.reduce((a, s) => a + c.get(s), 0), c.digits))];
  rows.push(total);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  const cost = typeof o.cost === 'string' ? o.cost : 'custom';
  return [
    `tsmpi stats: ${result.ranks.length} ranks on ${o.nodes} node(s), fabric ${o.fabric}, rcache ${o.rcache}, ${intra === 'rdma' ? '' : `intra ${intra}, `}eager < ${o.eagerThreshold} B, cost ${cost}, compute ${o.compute ?? 'none'}; wall ${result.wallMs.toFixed(0)} ms`,
    line(header),
    ...rows.map(line),
    '(total virtual_us is the slowest rank)',
  ].join('\n');
}

function fmt(v: number, digits?: number): string {
  return digits === undefined ? String(v) : v.toFixed(digits);
}
