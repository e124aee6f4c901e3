import type { CostModel } from './model.js';

/*
 * Defaults, each with its source. "estimate" means no published figure was found and the
 * value was derived as stated; the study sweeps those. docs/design.md ("Virtual time")
 * tabulates the ones that decide the study.
 */
const MiB = 1024 * 1024;

/** Fields that do not depend on the link generation. */
const common = {
  // UCX ib/rc per-operation constants; with L = 0.6 µs it fits osu_latency ≈ 1.15 µs (o + L + o).
  overheadUs: 0.3,
  // null: loopback through the HCA costs what the wire costs (the HCA turns the packet around).
  loopbackLatencyUs: null,
  loopbackBandwidthGBps: null,
  // UCX MEM_REG_OVERHEAD 16 µs and MEM_REG_GROWTH 0.25 µs/page (ucx uct_md config); libfabric#4738; ucx#10719
  // reports up to 0.7 µs/page on slow hosts.
  regBaseUs: 16,
  regPerPageUs: 0.25,
  // estimate: ODP registration pins nothing (ib_umem_odp_get), so it keeps the fixed part of a
  // registration and only a small per-page part for sizing the MTT/MKey.
  odpRegBaseUs: 16,
  odpRegPerPageUs: 0.01,
  // estimate from the register/deregister ratio in Mooncake PR#855.
  deregBaseUs: 4,
  deregPerPageUs: 0.06,
  // UCX UCP_RCACHE_OVERHEAD_DEFAULT (50 ns).
  rcacheHitUs: 0.05,
  // estimate: NP-RDMA (2023) measurements of ODP fault handling (hundreds of µs to ms); sweep 100–3000.
  odpFaultUs: 2000,
  // mlx5 MAX_PREFETCH_LEN (4 MiB): one fault resolves at most this much.
  odpFaultChunkBytes: 4 * MiB,
  // estimate: ummunotify design (Roland Dreier, OpenFabrics 2009): one read() syscall per batch.
  notifierDrainUs: 1,
  // IB spec min_rnr_timer encoding 12 = 0.64 ms, the value rdma-core examples use
  // (UCX RC_RNR_TIMEOUT defaulted to 30 ms in older releases).
  rnrTimerUs: 640,
  // estimate: an empty ibv_poll_cq costs tens of ns; SimGrid SMPI charges MPI_Test/Iprobe similarly.
  pollUs: 0.05,
  // estimate: single-core memcpy out of cache on a current server.
  memcpyGBps: 10,
  // estimate: the HCA reads a WQE's SGEs and DMAs each piece on its own (one PCIe read round of
  // ~0.1-0.2 us per segment fetched, largely overlapped); tens of ns each, as 64-byte segments halve
  // small-message read throughput in Kalia et al., ATC'16 ("Design guidelines for high performance RDMA systems").
  sgeUs: 0.03,
  // estimate: a trivial syscall with current mitigations.
  syscallUs: 0.2,
  // UCX mm_iface.c: shared-memory latency 80 ns, bandwidth 15.4 GB/s.
  shmLatencyUs: 0.08,
  shmGBps: 15.4,
  // estimate: intra-node osu_bw over shared memory peaks near the cache size and falls once the
  // message streams past the last-level cache (copy-out of a bounce buffer another core just wrote);
  // fitted so that CMA's single copy wins by 2-4x for large messages, as Vienne 2014 reports
  // ("Benefits of Cross Memory Attach for MPI libraries on HPC clusters", XSEDE'14).
  shmCacheBytes: 1 * MiB,
  shmLargeGBps: 2.5,
  // measured process_vm_readv; UCX cma_iface.c.
  cmaCallUs: 1.3,
  cmaPerPageUs: 0.25,
  cmaGBps: 11.1,
  // UCX mm_xpmem.c (attach cache hit); a miss is an estimate ("a few µs").
  xpmemAttachHitUs: 0.06,
  xpmemAttachMissUs: 3,
  // estimate: xpmem_fault_handler = get_user_pages_remote on the exporter + remap_pfn_range of one page,
  // about two minor faults on a current x86 server (a minor fault is ~0.25 µs with mitigations).
  xpmemFaultUs: 0.5,
  // include/uapi/linux/resource.h MLOCK_LIMIT: 8 MiB since Linux 5.16 (64 KiB before).
  memlockLimitBytes: 8 * MiB,
  // x86-64 base page.
  pageSize: 4096,
} as const;

/** EDR InfiniBand (100 Gb/s). */
export const edr: CostModel = Object.freeze({
  name: 'edr',
  // UCX uct/ib/base/ib_iface.c latency table: EDR/HDR/NDR 0.6 µs (FDR 0.7, QDR 1.3).
  latencyUs: 0.6,
  // UCX wire-speed formula for 4x EDR: 12.5 GB/s.
  bandwidthGBps: 12.5,
  ...common,
});

/** HDR InfiniBand (200 Gb/s): the default. */
export const hdr: CostModel = Object.freeze({
  name: 'hdr',
  // UCX uct/ib/base/ib_iface.c.
  latencyUs: 0.6,
  // 23 GB/s link (ucx#8851; osu_bw reaches ≈ 21 GB/s).
  bandwidthGBps: 23,
  ...common,
});

/** NDR InfiniBand (400 Gb/s). */
export const ndr: CostModel = Object.freeze({
  name: 'ndr',
  // UCX uct/ib/base/ib_iface.c.
  latencyUs: 0.6,
  // 47 GB/s (ucx#10649).
  bandwidthGBps: 47,
  ...common,
});

export const presets: Readonly<Record<'edr' | 'hdr' | 'ndr', CostModel>> = Object.freeze({ edr, hdr, ndr });
export type PresetName = keyof typeof presets;
