/**
 * Registration counters of a rank, read from comm.stats(): the rcache's lookups (hits = its fast-
 * and slow-path hits, misses, invalidations; pin-per-op's lookups count as neither, they are
 * 'uncached'), the adapter's memory-region registrations (what pin-per-op pays per message) and its
 * network page faults (ODP: requests that found pages missing from an MR's page table).
 */
import type { RegistrationCounters } from './comm.js';

export interface StatsLike {
  rcache: Record<string, number>;
  adapter: Record<string, number>;
}

const num = (r: Record<string, number>, ...names: string[]): number =>
  names.reduce((a, n) => a + (typeof r[n] === 'number' ? r[n]! : 0), 0);

export function registrationCounters(s: StatsLike): RegistrationCounters {
  return {
    hits: num(s.rcache, 'hitsFast', 'hitsSlow'),
    misses: num(s.rcache, 'misses'),
    registrations: num(s.adapter, 'registrations'),
    invalidations: num(s.rcache, 'invalidations'),
    odpFaults: num(s.adapter, 'odpFaults'),
  };
}
