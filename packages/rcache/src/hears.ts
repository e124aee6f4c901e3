/**
 * The registration policies, and what each invalidation source can hear — one home for both, next
 * to the sources, so the layers above import them instead of spelling them out.
 *
 * A mapping changes for one of two reasons:
 *   call    the process asked for it: free → munmap, brk shrink, mremap, mmap FIXED, madvise
 *   kernel  the kernel did it on its own: page migration (compaction, NUMA balancing), reclaim
 * The hooks source intercepts calls, so it never hears the kernel; the notifier hears both; the
 * none source hears nothing (the historical stale-registration bug, kept on purpose).
 */
import type { SourceKind } from './sources/source.js';

export type ChangeOrigin = 'call' | 'kernel';
export const CHANGE_ORIGINS: readonly ChangeOrigin[] = Object.freeze(['call', 'kernel']);

/** 'off' registers on every acquire and deregisters on every release (pin-per-op); the others cache. */
export type Policy = 'off' | SourceKind;
export const POLICIES: readonly Policy[] = Object.freeze(['off', 'none', 'hooks', 'notifier']);

/** The changes each invalidation source reports to the cache. */
const hears = (...origins: ChangeOrigin[]): readonly ChangeOrigin[] => Object.freeze(origins);
export const SOURCE_HEARS: Readonly<Record<SourceKind, readonly ChangeOrigin[]>> = Object.freeze({
  none: hears(),
  hooks: hears('call'),
  notifier: hears('call', 'kernel'),
});

/**
 * Whether a registration held under `policy` is dropped when a change of `origin` hits its pages,
 * so that it can never hand out stale frames. 'off' keeps nothing between operations: always true.
 */
export function policyHears(policy: Policy, origin: ChangeOrigin): boolean {
  return policy === 'off' || SOURCE_HEARS[policy].includes(origin);
}
