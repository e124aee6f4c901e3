/**
 * The intra-node comparison behind `tsmpi bench intranode`: two ranks on one node run OSU's
 * ping-pong (the study's `latency` suite, programs/suites.ts) through the runtime, once per
 * transport, with `runJob({ intra })`:
 *
 *   shm    every message through the per-pair shared-memory ring (double copy, pipelined)
 *   cma    every message by rendezvous, its data by one process_vm_readv (single copy)
 *   xpmem  every message by rendezvous, its data copied out of an attachment of the sender's
 *          address space (attachment cache; pages faulted through the owner's page table)
 *   rdma   adapter loopback on a pinning adapter, buffers through the registration cache fed by
 *          the mmu notifier (the inter-node path used inside the node)
 *
 * The eager threshold is 0, so the single-copy transports carry every size (what the table
 * compares); the protocol, the RTS before a single-copy read and its cost are the engine's own.
 * Each size runs as two steps: the first round trip (cold: attach miss, faults, registration)
 * and the rest (warm). Times are one-way: half a round trip. Every delivery is checked.
 */
import type { CostModel } from '@tsmpi/fabric';
import type { IntraKind } from '@tsmpi/mpi';
import type { JobSpec, RankSizeResult, SizeStep } from './job.js';
import { runBenchRanks } from './runner.js';

export const INTRANODE_TRANSPORTS = ['shm', 'cma', 'xpmem', 'rdma'] as const satisfies readonly IntraKind[];
export type IntranodeTransport = (typeof INTRANODE_TRANSPORTS)[number];
/** reuse: one buffer per rank (the OSU default); churn: each rank frees and allocates its buffers before every message. */
export type IntranodePattern = 'reuse' | 'churn';

export interface IntranodeCell {
  transport: IntranodeTransport;
  size: number;
  /** round trips, the cold first one included */
  iterations: number;
  /** average virtual µs one way, over the round trips after the first */
  us: number;
  /** the first round trip, cold, one way */
  firstUs: number;
  mbps: number;
  /** bytes that arrived wrong, over all iterations and both ranks (must be 0) */
  bad: number;
  wallMs: number;
}

export interface IntranodeRunOptions {
  sizes: number[];
  cost: CostModel;
  pattern: IntranodePattern;
  /** round trips per size: min(max(floor(budget / size), 3), maxIterations) */
  maxIterations?: number;
  byteBudget?: number;
  transports?: readonly IntranodeTransport[];
}

const MiB = 1024 * 1024;

/** Round trips per size: a byte budget bounds the wall clock at large sizes, never fewer than 3. */
export function intranodeIterations(size: number, o: Pick<IntranodeRunOptions, 'maxIterations' | 'byteBudget'>): number {
  return Math.min(Math.max(Math.floor((o.byteBudget ?? 64 * MiB) / size), 3), o.maxIterations ?? 50);
}

/** One job per transport, every size inside it; cells in transport-major, size-minor order. */
export async function runIntranode(o: IntranodeRunOptions, onCell?: (c: IntranodeCell) => void): Promise<IntranodeCell[]> {
  const out: IntranodeCell[] = [];
  const steps: SizeStep[] = o.sizes.flatMap((size) => [
    { size, iterations: 1, warmup: 0, window: 1 },
    { size, iterations: intranodeIterations(size, o) - 1, warmup: 0, window: 1 },
  ]);
  const maxSize = Math.max(...o.sizes);
  for (const transport of o.transports ?? INTRANODE_TRANSPORTS) {
    const spec: JobSpec = { name: `intranode/${transport}/${o.pattern}`, suite: 'latency', pattern: { kind: o.pattern }, steps };
    const perRank = await runBenchRanks(spec, {
      nodes: 1,
      intra: transport,
      fabric: 'pinning',
      rcache: 'notifier',
      eagerThreshold: 0,
      cost: { ...o.cost },
      memBytes: 64 * MiB + 8 * maxSize,
      memlock: Infinity,
    });
    o.sizes.forEach((size, k) => {
      const cell = cellOf(transport, size, perRank.map((r) => r[2 * k]!), perRank.map((r) => r[2 * k + 1]!));
      out.push(cell);
      onCell?.(cell);
    });
  }
  return out;
}

/** Rank 0's clock spans the round trips (it sends first and receives last). */
function cellOf(transport: IntranodeTransport, size: number, cold: RankSizeResult[], warm: RankSizeResult[]): IntranodeCell {
  const oneWay = (r: RankSizeResult): number => r.elapsedUs / (2 * r.iterations);
  const us = oneWay(warm[0]!);
  const bad = [...cold, ...warm].reduce((s, r) => s + r.staleBytes, 0);
  const wallMs = Math.max(...cold.map((r) => r.wallMs)) + Math.max(...warm.map((r) => r.wallMs));
  return { transport, size, iterations: 1 + warm[0]!.iterations, us, firstUs: oneWay(cold[0]!), mbps: size / us, bad, wallMs };
}
