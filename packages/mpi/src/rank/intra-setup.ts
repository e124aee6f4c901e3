import type { AddressSpace, Allocator, PhysicalMemory } from '@tsmpi/vm';
import { Intranode, type IntranodeEndpoint, type IntranodePeer, type QpAddress, type VirtualClock } from '@tsmpi/fabric';
import { ranksOfNode } from '../launcher/placement.js';
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
  wd: RankWorkerData, memory: PhysicalMemory, space: AddressSpace, core: VirtualClock, device: DeviceClock, heap: Allocator,
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
    kind, endpoint, peers, device, heap, space, ...(segment ? { segment } : {}),
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
