import type { AddressSpace } from '@tsmpi/vm';
import type { ProtectionDomain } from '@tsmpi/fabric';
import type { RankConnections } from './connections.js';
import type { InjectSpec, RegistrationFaults } from '../inject.js';
import { TimedFaults } from '../inject-timed.js';
import type { RankWorkerData } from './worker-data.js';

/**
 * --inject's faults that act on the rank's own objects: the link-down window on every queue pair,
 * and the timed faults (ODP storms, memory pressure, a forced QP error) run at its program actions.
 * The registration faults' count joins the others in RankStats.faults.
 */
export function injectTimedFaults(
  spec: InjectSpec, wd: RankWorkerData,
  parts: { pd: ProtectionDomain; space: AddressSpace; qps: RankConnections; faults: RegistrationFaults },
): TimedFaults {
  const { pd, space, qps } = parts;
  const down = spec.linkDown;
  // every queue pair's link, including those made on first use later
  if (down) qps.onOpen((q) => q.linkDown(down.start, down.start + down.length));
  const timed = new TimedFaults(spec, {
    rank: wd.rank,
    size: wd.size,
    invalidateOnDemand: () => pd.invalidateOnDemand(0, space.vaBytes),
    migrateAndReclaim: () => {
      space.migrate(0, space.vaBytes);
      space.reclaim(0, space.vaBytes);
    },
    failQueuePair: (peer, cause) => (peer === wd.rank ? undefined : qps.to(peer).toError(cause)),
  });
  parts.faults.onInjected = (code) => void (code === 'ENOMEM' ? timed.counts.regEnomem++ : timed.counts.regEfault++);
  return timed;
}
