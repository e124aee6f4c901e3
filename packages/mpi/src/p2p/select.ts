import type { IntraKind, RndvMode } from '../options.js';
import { noncontigProtocol, type NoncontigMode } from './noncontig.js';
import type { Payload } from './operations.js';
import type { MessageCosts } from './ports.js';
import type { Protocol, ProtocolHost } from './protocol.js';
import { PackProtocol } from './protocols/pack.js';
import { RendezvousSgeProtocol } from './protocols/rendezvous-sge.js';
import { EagerProtocol } from './protocols/eager.js';
import { RendezvousPipelineProtocol } from './protocols/rendezvous-pipeline.js';
import { RendezvousRdmaProtocol } from './protocols/rendezvous-rdma.js';
import { RendezvousSingleCopyProtocol } from './protocols/rendezvous-single-copy.js';
import { SelfProtocol } from './protocols/self.js';
import { ShmProtocol } from './protocols/shm.js';

/** Every protocol a rank runs, one instance each (the single-copy rendezvous once per transport). */
export interface ProtocolTable {
  readonly selfBuffered: SelfProtocol;
  readonly selfSynchronous: SelfProtocol;
  readonly eager: EagerProtocol;
  readonly shm: ShmProtocol;
  readonly rendezvousRdma: RendezvousRdmaProtocol;
  readonly rendezvousPipeline: RendezvousPipelineProtocol;
  readonly rendezvousCma: RendezvousSingleCopyProtocol;
  readonly rendezvousXpmem: RendezvousSingleCopyProtocol;
  readonly pack: PackProtocol;
  readonly rendezvousSge: RendezvousSgeProtocol;
}

/** verbs max_sge when the engine is not told (the fabric's default adapter limit) */
const DEFAULT_MAX_SGE = 30;

export function protocolTable(host: ProtocolHost): ProtocolTable {
  const rendezvousRdma = new RendezvousRdmaProtocol(host);
  return {
    selfBuffered: new SelfProtocol(host, true),
    selfSynchronous: new SelfProtocol(host, false),
    eager: new EagerProtocol(host),
    shm: new ShmProtocol(host),
    // before the other rendezvous: an RTS with Flags.SGE is its own (the pipeline accepts any other RTS)
    rendezvousSge: new RendezvousSgeProtocol(host, () => host.env.rndv?.maxSge ?? DEFAULT_MAX_SGE),
    pack: new PackProtocol(host),
    // before rendezvousRdma: envelopes go to the first handler that accepts them, and the whole
    // rendezvous would take a pipelined RTS (it accepts every RTS without CMA / XPMEM)
    rendezvousPipeline: new RendezvousPipelineProtocol(host, rendezvousRdma),
    rendezvousRdma,
    rendezvousCma: new RendezvousSingleCopyProtocol(host, 'cma'),
    rendezvousXpmem: new RendezvousSingleCopyProtocol(host, 'xpmem'),
  };
}

/** How a rank reaches a peer: itself, or a peer on its node by the job's --intra transport ('rdma' otherwise). */
export type PeerPath = 'self' | IntraKind;

/**
 * The one place a send's protocol is chosen (after UCX's protocol selection): from the path to
 * the peer and the length. It alone owns the eager threshold and the intra-node route:
 *
 *   path            below the threshold (or 0 B)   at or above it
 *   self            selfBuffered                   selfSynchronous (so is a 0-B self-send at a 0-B threshold)
 *   shm             shm                            shm
 *   auto            shm                            rendezvousXpmem
 *   cma             eager                          rendezvousCma
 *   xpmem           eager                          rendezvousXpmem
 *   rdma            eager                          rendezvousPipeline (--rndv pipeline or auto; it takes
 *                                                  the whole-buffer rendezvousRdma where auto fits) or
 *                                                  rendezvousRdma (--rndv whole)
 *
 * ('rdma': another node, --intra rdma, or no intra-node transports.)
 */
export function protocolFor(
  path: PeerPath, length: number, eagerThreshold: number, synchronous = false, rndv: RndvMode = 'auto',
): keyof ProtocolTable {
  const overAdapter = rndv === 'whole' ? 'rendezvousRdma' : 'rendezvousPipeline';
  // ssend: the self-send that waits for its receive, eager with an acknowledgement (Flags.SYNC) below
  // the threshold (never the buffered shm ring), and the path's rendezvous above it, which already waits
  if (synchronous) {
    if (path === 'self') return 'selfSynchronous';
    if (length < eagerThreshold || length === 0) return 'eager';
    return path === 'cma' ? 'rendezvousCma' : path === 'xpmem' || path === 'auto' ? 'rendezvousXpmem' : overAdapter;
  }
  if (path === 'self') return length < eagerThreshold ? 'selfBuffered' : 'selfSynchronous';
  const eager = length < eagerThreshold || length === 0;
  switch (path) {
    case 'shm':
      return 'shm';
    case 'auto':
      return eager ? 'shm' : 'rendezvousXpmem';
    case 'cma':
      return eager ? 'eager' : 'rendezvousCma';
    case 'xpmem':
      return eager ? 'eager' : 'rendezvousXpmem';
    case 'rdma':
      return eager ? 'eager' : overAdapter;
  }
}

/** A rank's protocol selection: its protocols, and what it knows of the path to each peer. */
export class ProtocolSelection {
  constructor(
    private readonly table: ProtocolTable,
    private readonly rank: number,
    readonly eagerThreshold: number,
    private readonly intra: { readonly kind: IntraKind; onNode(peer: number): boolean } | undefined,
    private readonly rndv: RndvMode = 'auto',
    private readonly noncontig: NoncontigMode = 'auto',
    private readonly costs: Pick<MessageCosts, 'overheadUs' | 'memcpyGBps'> = { overheadUs: 0, memcpyGBps: 1 },
  ) {
    table.pack.inner = (peer, length, synchronous) => this.selectProtocol(peer, length, synchronous);
  }

  /** `payload` with a gather list (a non-contiguous buffer) goes by pack or rendezvousSge (p2p/noncontig.ts's rule). */
  selectProtocol(peer: number, length: number, synchronous = false, payload?: Payload): Protocol {
    const name = protocolFor(this.pathTo(peer), length, this.eagerThreshold, synchronous, this.rndv);
    const gather = payload !== undefined && 'gather' in payload ? payload.gather : undefined;
    if (gather === undefined) return this.table[name];
    const choice = noncontigProtocol({
      overAdapterRendezvous: name === 'rendezvousRdma' || name === 'rendezvousPipeline',
      bytes: length, segments: gather.segments.length, spanBytes: gather.span.length,
      // a slot holds an envelope and an eager payload: the list must fit in eagerThreshold bytes
      listRoom: this.eagerThreshold,
    }, this.noncontig, this.costs);
    return choice === 'sge' ? this.table.rendezvousSge : this.table.pack;
  }

  private pathTo(peer: number): PeerPath {
    if (peer === this.rank) return 'self';
    return this.intra !== undefined && this.intra.onNode(peer) ? this.intra.kind : 'rdma';
  }
}
