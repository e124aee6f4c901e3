/**
 * Configurations: which adapter and which registration policy a job runs with.
 *
 *   pin-per-op        pinning adapter, rcache 'off': register before and deregister after every message
 *   pipeline          pinning adapter, rcache 'off', --rndv pipeline: each 1 MiB chunk registered, read and
 *                     deregistered, 4 in flight (Open MPI ob1's pipeline protocol without leave_pinned)
 *   pinning×none      cached, never told of changes (the historical stale-registration bug, on purpose)
 *   pinning×hooks     cached, told by intercepted munmap/sbrk/mremap/madvise (UCX ucm, Open MPI patcher)
 *   pinning×notifier  cached, told by the mmu-notifier channel (ummunotify)
 *   odp×notifier      on-demand-paging adapter (nothing pinned, translations zapped by the kernel),
 *                     its memory regions cached with the notifier source
 * and, for the kernel-initiated case, the pinning adapter with pinMode 'mlock' (pages locked, not
 * pinned, so migration still moves them — "Mlock does *not* pin pages", in the 2008 LKML thread "MMU Notifiers V6"):
 *   mlock×hooks, mlock×notifier
 */
import { FABRICS, RCACHE_POLICIES, type FabricKind, type PinMode, type RcachePolicy } from '@tsmpi/mpi';
import { policyHears, type ChangeOrigin } from '@tsmpi/rcache';
import { BenchUsageError } from './errors.js';
import type { Pattern } from './patterns.js';

export type { FabricKind, PinMode, RcachePolicy };

export interface Configuration {
  /** Stable id used in JSON, file names and --config: e.g. "pinning-off", "pinning-mlock-hooks". */
  id: string;
  /** Column label in the tables and the charts. */
  label: string;
  fabric: FabricKind;
  rcache: RcachePolicy;
  pinMode: PinMode;
  /** How a rendezvous moves the message: the whole buffer registered at once, or in chunks (--rndv). */
  rndv: 'whole' | 'pipeline';
}

export function configuration(fabric: FabricKind, rcache: RcachePolicy, pinMode: PinMode = 'pin', rndv: 'whole' | 'pipeline' = 'whole'): Configuration {
  const mode = pinMode === 'mlock' ? '-mlock' : '';
  const piped = rndv === 'pipeline' ? '-pipeline' : '';
  const id = `${fabric}${mode}-${rcache}${piped}`;
  let label: string;
  if (fabric === 'pinning' && rcache === 'off' && pinMode === 'pin') label = rndv === 'pipeline' ? 'pipeline' : 'pin-per-op';
  else label = `${pinMode === 'mlock' ? 'mlock' : fabric}×${rcache}${rndv === 'pipeline' ? '+pipeline' : ''}`;
  return { id, label, fabric, rcache, pinMode, rndv };
}

export const PIN_PER_OP = configuration('pinning', 'off');
export const PIPELINE = configuration('pinning', 'off', 'pin', 'pipeline');

/** The study's configurations, the baseline first. */
export const STUDY_CONFIGS: readonly Configuration[] = [
  PIN_PER_OP,
  PIPELINE,
  configuration('pinning', 'none'),
  configuration('pinning', 'hooks'),
  configuration('pinning', 'notifier'),
  configuration('odp', 'notifier'),
];

/** The non-contiguous case (strided:pack|sge): every registration policy, the pipeline left out (its chunks are contiguous). */
export const NONCONTIG_CONFIGS: readonly Configuration[] = STUDY_CONFIGS.filter((c) => c !== PIPELINE);

/** The kernel-initiated case: locked (not pinned) pages migrated under a cached registration. */
export const MIGRATION_CONFIGS: readonly Configuration[] = [
  configuration('pinning', 'hooks', 'mlock'),
  configuration('pinning', 'notifier', 'mlock'),
];

/** "pinning:notifier", "pinning-notifier", "odp:off", "pin-per-op", "pipeline", "pinning:notifier:pipeline", "mlock:hooks" → Configuration. */
export function parseConfiguration(text: string): Configuration {
  const t = text.trim().toLowerCase();
  if (t === 'pin-per-op') return PIN_PER_OP;
  if (t === 'pipeline') return PIPELINE;
  const parts = t.split(/[:×+-]/).filter((p) => p !== '');
  let fabric: FabricKind | undefined;
  let pinMode: PinMode = 'pin';
  let rcache: RcachePolicy | undefined;
  let rndv: 'whole' | 'pipeline' = 'whole';
  for (const p of parts) {
    if (p === 'pipeline') rndv = 'pipeline';
    else if (p === 'pin') fabric = 'pinning';
    else if (p === 'mlock') { fabric = 'pinning'; pinMode = 'mlock'; }
    else if (isOneOf(FABRICS, p)) fabric = p;
    else if (isOneOf(RCACHE_POLICIES, p)) rcache = p;
    else {
      throw new BenchUsageError(
        `configuration "${text}": "${p}" is neither a fabric (${FABRICS.join(', ')}, mlock) nor an rcache policy (${RCACHE_POLICIES.join(', ')}) nor pipeline`,
      );
    }
  }
  if (fabric === undefined || rcache === undefined) {
    throw new BenchUsageError(`configuration "${text}" needs a fabric and a policy, e.g. pinning:notifier, odp:notifier, mlock:hooks or pin-per-op`);
  }
  return configuration(fabric, rcache, pinMode, rndv);
}

export function isOneOf<T extends string>(names: readonly T[], text: string): text is T {
  return (names as readonly string[]).includes(text);
}

/**
 * The changes a pattern's program must survive. Every real program frees memory, so a library call
 * (free → munmap) is always possible — a cache that does not hear calls is safe under reuse and
 * rotate only by luck of the pattern; migrate adds the kernel's own changes, and so does fork (the
 * copy-on-write fault that moves a page after fork is the kernel's, no library call announces it).
 */
function changesUnder(p: Pattern): readonly ChangeOrigin[] {
  return p.kind === 'migrate' || p.kind === 'fork' ? ['call', 'kernel'] : ['call'];
}

/**
 * Whether the configuration must deliver every byte correctly under the pattern: its policy hears
 * every change the pattern can make (rcache's policyHears, next to the sources).
 */
export function isSafe(c: Configuration, p: Pattern): boolean {
  return changesUnder(p).every((origin) => policyHears(c.rcache, origin));
}

/** True for configurations that keep registrations between messages. */
export function isCached(c: Configuration): boolean {
  return c.rcache !== 'off';
}
