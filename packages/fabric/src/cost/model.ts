/**
 * The cost model: one plain, JSON-serialisable object of numbers. Every field is a price the
 * simulation charges to a virtual clock; defaults and their sources are in defaults.ts.
 */
export interface CostModel {
  /** Preset this model started from ('edr' | 'hdr' | 'ndr' | 'custom'). */
  name: string;
  /** L: one-way wire latency between adapters, µs. */
  latencyUs: number;
  /** o: per-message CPU overhead on the posting (and on the consuming) side, µs. */
  overheadUs: number;
  /** Link bandwidth, GB/s (1 GB/s = 1000 bytes per µs); G = 1 / (bandwidthGBps × 1000) µs per byte. */
  bandwidthGBps: number;
  /** HCA loopback (same node) latency, µs; null: same as latencyUs. */
  loopbackLatencyUs: number | null;
  /** HCA loopback bandwidth, GB/s; null: same as bandwidthGBps. */
  loopbackBandwidthGBps: number | null;
  /** Pinning registration: fixed part, µs. */
  regBaseUs: number;
  /** Pinning registration: per page (fault-in + pin + MTT write), µs. */
  regPerPageUs: number;
  /** ODP registration: fixed part, µs. */
  odpRegBaseUs: number;
  /** ODP registration: per page (no pinning; MTT sizing only), µs. */
  odpRegPerPageUs: number;
  /** Deregistration: fixed part, µs. */
  deregBaseUs: number;
  /** Deregistration: per page (unpin), µs. */
  deregPerPageUs: number;
  /** A registration-cache hit, µs (charged by @tsmpi/rcache). */
  rcacheHitUs: number;
  /** One ODP network page fault, per faulting request and per started odpFaultChunkBytes, µs. */
  odpFaultUs: number;
  /** Largest range one fault resolves (mlx5 MAX_PREFETCH_LEN), bytes. */
  odpFaultChunkBytes: number;
  /** Draining the userspace notifier queue, per batch (a read syscall), µs (charged by @tsmpi/rcache). */
  notifierDrainUs: number;
  /** RNR NAK timer: a send that found no receive is retried this much later, µs. */
  rnrTimerUs: number;
  /** One poll of a completion queue / progress engine (test, iprobe), µs (charged by @tsmpi/mpi). */
  pollUs: number;
  /** CPU memcpy bandwidth (eager copies in and out of bounce buffers), GB/s. */
  memcpyGBps: number;
  /** Each scatter/gather element of an RDMA work request past the first (a descriptor fetch and a DMA of its own), µs. */
  sgeUs: number;
  /** A cheap system call, µs. */
  syscallUs: number;
  /** Intra-node shared-memory transport latency, µs. */
  shmLatencyUs: number;
  /** Intra-node shared-memory copy bandwidth, GB/s. */
  shmGBps: number;
  /** Messages longer than this stream past the last-level cache: shm copies run at shmLargeGBps, bytes. */
  shmCacheBytes: number;
  /** Intra-node shared-memory copy bandwidth once a message exceeds shmCacheBytes, GB/s. */
  shmLargeGBps: number;
  /** CMA (process_vm_readv) fixed cost per call, µs. */
  cmaCallUs: number;
  /** CMA per page (get_user_pages), µs. */
  cmaPerPageUs: number;
  /** CMA copy bandwidth, GB/s. */
  cmaGBps: number;
  /** XPMEM attach served from the attach cache, µs. */
  xpmemAttachHitUs: number;
  /** XPMEM attach miss (syscall + mapping), µs, before first-touch faults. */
  xpmemAttachMissUs: number;
  /** XPMEM: one page fault on an attachment (resolved through the exporter's page table), µs. */
  xpmemFaultUs: number;
  /** RLIMIT_MEMLOCK the launcher gives each rank, bytes (Infinity is not JSON: use null for unlimited). */
  memlockLimitBytes: number | null;
  /** Page size the per-page prices refer to, bytes. */
  pageSize: number;
}

export type CostField = Exclude<keyof CostModel, 'name'>;
