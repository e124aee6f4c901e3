import type { AddressSpace, PhysicalMemory } from '@tsmpi/vm';
import { Intranode, shmWatermarkReader, type CostModel, type IntranodeEndpoint, type IntranodePeer, type QpAddress, type VirtualClock } from '@tsmpi/fabric';
import { nodeOfRank, ranksOfNode } from '../launcher/placement.js';
import { IntraPath, SEGMENT_BASE } from '../p2p/intra.js';
import type { DeviceClock } from '../p2p/engine.js';
import type { RankWorkerData } from './worker-data.js';

export interface IntraSetup {
  path: IntraPath;
  endpoint: IntranodeEndpoint;
  /** After wire-up: every peer's QP address toward us (its node and page table). */
  connect(addresses: readonly (QpAddress | undefined)[]): void;
}

/**
 * Opens this rank's intra-node endpoint (`--intra` other than rdma): pid = its index among the
 * ranks of its node; with xpmem or auto it exports its whole address space above SEGMENT_BASE once,
 * as UCX does, so a receiver can attach any send buffer.
 */
export function openIntra(
  wd: RankWorkerData, memory: PhysicalMemory, space: AddressSpace, core: VirtualClock, device: DeviceClock,
): IntraSetup | undefined {
  const kind = wd.options.intra ?? 'rdma';
  const handle = wd.nodes[wd.node]!.intranode;
  if (kind === 'rdma' || handle === undefined) return undefined;
  const node = Intranode.attach(handle, memory);
  const pidOf = (rank: number): number => ranksOfNode(wd.node, wd.size, wd.options.nodes).indexOf(rank);
  const endpoint = node.open(space, core, { pid: pidOf(wd.rank) });
  const segment = kind === 'xpmem' || kind === 'auto' ? endpoint.xpmem.make(SEGMENT_BASE, space.vaBytes - SEGMENT_BASE) : undefined;
  const peers: (IntranodePeer | undefined)[] = new Array(wd.size).fill(undefined);
  const path = new IntraPath({
    kind, rank: wd.rank, endpoint, peers, device, space, ...(segment ? { segment } : {}),
  });
  return {
    path,
    endpoint,
    connect(addresses) {
      addresses.forEach((a, p) => {
        if (a === undefined || p === wd.rank || a.nodeId !== wd.node) return;
        peers[p] = { kind: 'intranode-peer', nodeId: a.nodeId, pid: pidOf(p), job: 0, space: a.space as IntranodePeer['space'] };
      });
    },
  };
}

/** Whether messages between ranks of one node may take the shm rings (`--intra shm|auto`). */
function ringsOn(wd: RankWorkerData): boolean {
  return wd.options.intra === 'shm' || wd.options.intra === 'auto';
}

/**
 * Exact virtual time with rings: the watermark of the rings into each world rank (Infinity for a
 * rank no ring of this process reaches), for the horizon to read beside its completion queue's;
 * undefined when no ring is in use.
 */
export function ringWatermarks(wd: RankWorkerData): ((rank: number) => number) | undefined {
  if (!ringsOn(wd)) return undefined;
  const byRank = Array.from({ length: wd.size }, (_, r): (() => number) | undefined => {
    const node = nodeOfRank(r, wd.size, wd.options.nodes);
    const handle = wd.nodes[node]?.intranode;
    if (handle === undefined) return undefined;
    const read = shmWatermarkReader(handle);
    const pid = ranksOfNode(node, wd.size, wd.options.nodes).indexOf(r);
    return () => read(pid);
  });
  return (rank) => byRank[rank]?.() ?? Infinity;
}

/**
 * The least virtual time between a rank's action and an event it makes for another (the
 * scheduler's lookahead): with rings, a chunk is visible to its receiver `shmLatencyUs` after its
 * copy in began, and a copy in may be a queued send's, begun no earlier than the time the sender's
 * bound already holds for it — so the overhead paid before it does not count.
 */
export function ringLookahead(wd: RankWorkerData, cost: CostModel, network: number): number {
  return ringsOn(wd) ? Math.min(network, cost.shmLatencyUs) : network;
}
