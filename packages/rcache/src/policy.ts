import type { AddressSpace } from '@tsmpi/vm';
import { RegistrationCache, type CloseReport, type RegistrationCacheOptions } from './cache.js';
import { InvalidArgument } from './errors.js';
import type { RcacheEvents } from './events.js';
import type { Registration } from './region.js';
import { hooksSource } from './sources/hooks.js';
import { noneSource } from './sources/none.js';
import { notifierSource } from './sources/notifier.js';
import type { InvalidationSource } from './sources/source.js';
import { POLICIES, type Policy } from './hears.js';
import type { RcacheStats } from './stats.js';

/**
 * The one face the message layer sees, whatever the policy, so it never branches on it: 'off' registers
 * on every acquire and deregisters on every release (pin-per-op), the others cache with their source.
 */
export interface RegistrationProvider<H> {
  readonly policy: Policy;
  acquire(addr: number, length: number, access: number): Registration<H>;
  release(reg: Registration<H>): void;
  invalidate(start: number, end: number): void;
  flush(): void;
  close(): CloseReport;
  readonly stats: RcacheStats;
  on<E extends keyof RcacheEvents>(event: E, fn: (...args: RcacheEvents[E]) => void): unknown;
}

export interface RegistrationPolicyOptions<H> extends Omit<RegistrationCacheOptions<H>, 'source' | 'cache' | 'pageSize'> {
  /** The address space the sources listen to; required for 'hooks' and 'notifier'. */
  space?: AddressSpace;
  /** Defaults to space.pageSize. */
  pageSize?: number;
  /** Notifier channel capacity (cookies). */
  notifierCapacity?: number;
}

export function createRegistrationPolicy<H>(policy: Policy, opts: RegistrationPolicyOptions<H>): RegistrationProvider<H> {
  if (!POLICIES.includes(policy)) {
    throw new InvalidArgument(`createRegistrationPolicy: policy must be one of ${POLICIES.join(', ')}, got ${String(policy)}`);
  }
  const { space, notifierCapacity, pageSize: ps, ...rest } = opts;
  const pageSize = ps ?? space?.pageSize;
  if (pageSize === undefined) {
    throw new InvalidArgument('createRegistrationPolicy: give pageSize, or space to take it from');
  }
  let source: InvalidationSource;
  if (policy === 'hooks' || policy === 'notifier') {
    if (space === undefined) {
      throw new InvalidArgument(`createRegistrationPolicy: policy '${policy}' listens to an address space; pass space`);
    }
    source =
      policy === 'hooks'
        ? hooksSource(space)
        : notifierSource(space, notifierCapacity === undefined ? {} : { capacity: notifierCapacity });
  } else {
    source = noneSource();
  }
  return new RegistrationCache<H>({ ...rest, pageSize, source, cache: policy !== 'off' });
}
