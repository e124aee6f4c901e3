import type { IntraPath } from './intra.js';
import type { Protocol, ProtocolHost } from './protocol.js';
import { EagerProtocol } from './protocols/eager.js';
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
  readonly rendezvousCma: RendezvousSingleCopyProtocol;
  readonly rendezvousXpmem: RendezvousSingleCopyProtocol;
}

export function protocolTable(host: ProtocolHost): ProtocolTable {
  return {
    selfBuffered: new SelfProtocol(host, true),
    selfSynchronous: new SelfProtocol(host, false),
    eager: new EagerProtocol(host),
    shm: new ShmProtocol(host),
    rendezvousRdma: new RendezvousRdmaProtocol(host),
    rendezvousCma: new RendezvousSingleCopyProtocol(host, 'cma'),
    rendezvousXpmem: new RendezvousSingleCopyProtocol(host, 'xpmem'),
  };
}

/**
 * The one place a send's protocol is chosen (after UCX's protocol selection): from the peer
 * (itself, a rank of this node, another node) and the length. It alone owns the eager threshold
 * and the intra-node route:
 *
 *                   below the threshold (or 0 B)   at or above it
 *   self            self, buffered                 self, synchronous (a 0-B self-send below a 0-B threshold too)
 *   --intra shm     shm                            shm
 *   --intra auto    shm                            rendezvous by xpmem
 *   --intra cma     eager                          rendezvous by cma
 *   --intra xpmem   eager                          rendezvous by xpmem
 *   otherwise       eager                          rendezvous by RDMA read
 *
 * ("otherwise": another node, --intra rdma, or no intra-node transports.)
 */
export class ProtocolSelection {
  constructor(
    private readonly table: ProtocolTable,
    private readonly rank: number,
    readonly eagerThreshold: number,
    private readonly intra: IntraPath | undefined,
  ) {}

  selectProtocol(peer: number, length: number): Protocol {
    const t = this.table;
    if (peer === this.rank) return length < this.eagerThreshold ? t.selfBuffered : t.selfSynchronous;
    const eager = length < this.eagerThreshold || length === 0;
    const intra = this.intra !== undefined && this.intra.onNode(peer) ? this.intra.kind : 'rdma';
    switch (intra) {
      case 'shm':
        return t.shm;
      case 'auto':
        return eager ? t.shm : t.rendezvousXpmem;
      case 'cma':
        return eager ? t.eager : t.rendezvousCma;
      case 'xpmem':
        return eager ? t.eager : t.rendezvousXpmem;
      case 'rdma':
        return eager ? t.eager : t.rendezvousRdma;
    }
  }
}
