import { STATUS_NAMES, Status, type StatusName } from './constants.js';
import type { FabricStats } from './types.js';

/**
 * Counter cells, one BigInt64 block per domain in the adapter's shared memory, so a count can be
 * taken by whichever thread did the work (a network page fault on a peer's MR is counted in the
 * peer's domain by the initiator's thread). Atomics.add on BigInt64 keeps them exact.
 */
export const Counter = {
  registrations: 0,
  deregistrations: 1,
  registeredBytes: 2,
  pinnedPages: 3,
  mlockedPages: 4,
  odpFaults: 5,
  odpFaultPages: 6,
  odpInvalidations: 7,
  odpZappedPages: 8,
  prefetchPages: 9,
  sendOps: 10,
  sendBytes: 11,
  recvOps: 12,
  recvBytes: 13,
  writeOps: 14,
  writeBytes: 15,
  readOps: 16,
  readBytes: 17,
  rnrParked: 18,
  rnrDelivered: 19,
  rnrExceeded: 20,
  atomicOps: 21,
} as const;
export type CounterName = keyof typeof Counter;
const COUNTER_NAMES = Object.keys(Counter) as CounterName[];
const ERROR_BASE = 24;
const ERROR_STATUSES = STATUS_NAMES.filter((n) => n !== 'SUCCESS') as Exclude<StatusName, 'SUCCESS'>[];
/** Cells per domain: the named counters, then one per error status code (0..15). */
export const COUNTER_CELLS = ERROR_BASE + 16;

export function bump(cells: BigInt64Array, domainId: number, c: number, by = 1): void {
  Atomics.add(cells, domainId * COUNTER_CELLS + c, BigInt(by));
}

export function bumpError(cells: BigInt64Array, domainId: number, status: number): void {
  Atomics.add(cells, domainId * COUNTER_CELLS + ERROR_BASE + (status & 15), 1n);
}

/** The counters of the given domains, summed. */
export function readStats(cells: BigInt64Array, domainIds: Iterable<number>): FabricStats {
  const sums = new Array<number>(COUNTER_CELLS).fill(0);
  for (const d of domainIds) {
    for (let i = 0; i < COUNTER_CELLS; i++) sums[i]! += Number(Atomics.load(cells, d * COUNTER_CELLS + i));
  }
  const out = {} as Record<string, unknown>;
  for (const n of COUNTER_NAMES) out[n] = sums[Counter[n]];
  const errors = {} as Record<string, number>;
  for (const n of ERROR_STATUSES) errors[n] = sums[ERROR_BASE + (Status[n] & 15)]!;
  out.errors = errors;
  return out as unknown as FabricStats;
}
