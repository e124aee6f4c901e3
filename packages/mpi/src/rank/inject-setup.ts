import type { AddressSpace } from '@tsmpi/vm';
import type { ProtectionDomain, QueuePair } from '@tsmpi/fabric';
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
  parts: { pd: ProtectionDomain; space: AddressSpace; qps: readonly (QueuePair | undefined)[]; faults: RegistrationFaults },
): TimedFaults {
  const { pd, space, qps } = parts;
  if (spec.linkDown) for (const q of qps) q?.linkDown(spec.linkDown.start, spec.linkDown.start + spec.linkDown.length);
  const timed = new TimedFaults(spec, {
    rank: wd.rank,
    size: wd.size,
    invalidateOnDemand: () => pd.invalidateOnDemand(0, space.vaBytes),
    migrateAndReclaim: () => {
      space.migrate(0, space.vaBytes);
      space.reclaim(0, space.vaBytes);
    },
    failQueuePair: (peer, cause) => qps[peer]?.toError(cause),
  });
  parts.faults.onInjected = (code) => void (code === 'ENOMEM' ? timed.counts.regEnomem++ : timed.counts.regEfault++);
  return timed;
}
