import type { TimeSplit } from './compute.js';

/** Counters of the message layer; one field per protocol branch. */
export interface MessageCounters {
  eagerSends: number;
  rendezvousSends: number;
  selfSends: number;
  procNullOps: number;
  eagerBytesSent: number;
  rendezvousBytesSent: number;
  bytesReceived: number;
  receivesPosted: number;
  matchedPosted: number; // an arrival found its receive already posted
  matchedUnexpected: number; // a receive found its message in the unexpected queue
  unexpectedMessages: number; // arrivals that had to wait in the unexpected queue
  truncations: number;
  rdmaReads: number;
  probes: number;
  tests: number; // test()/iprobe() polls, each charged to the virtual clock
  blockingWaits: number; // times the rank slept on its completion queue doorbell
  packedSends: number; // non-contiguous sends packed into one run (p2p/noncontig.ts)
  packedBytes: number;
  sgeSends: number; // non-contiguous sends moved by scatter/gather RDMA reads (no copy)
  sgeSegments: number; // scatter/gather elements the receivers' reads of those sends carried
}

export function emptyMessageCounters(): MessageCounters {
  return {
    eagerSends: 0, rendezvousSends: 0, selfSends: 0, procNullOps: 0,
    eagerBytesSent: 0, rendezvousBytesSent: 0, bytesReceived: 0,
    receivesPosted: 0, matchedPosted: 0, matchedUnexpected: 0, unexpectedMessages: 0,
    truncations: 0, rdmaReads: 0, probes: 0, tests: 0, blockingWaits: 0,
    packedSends: 0, packedBytes: 0, sgeSends: 0, sgeSegments: 0,
  };
}

/** What comm.stats() returns and the launcher sums: numbers only, nested one level, so totals are a plain sum. */
export interface RankStats {
  rank: number;
  node: number;
  /** Virtual time of the rank, µs. */
  virtualUs: number;
  messages: MessageCounters;
  /** Counters of the rank's registration cache / policy (from @tsmpi/rcache). */
  rcache: Record<string, number>;
  /** Counters of the rank's protection domain (from @tsmpi/fabric). */
  adapter: Record<string, number>;
  /**
   * Counters of the rank's collectives (collectiveStats(), flattened): messages, bytes, objects,
   * temporaries, localCopies/localCopyBytes, reductions/reductionBytes, localUs, and
   * `algorithms.<collective>.<algorithm>` → calls.
   */
  collectives: Record<string, number>;
  /**
   * Where the virtual time went (src/compute.ts): the program's own work (measured, or
   * comm.compute()), the runtime's work for it, and waiting for completions; they add up to virtualUs.
   */
  time: TimeSplit;
  /** With --inject: the faults injected into this rank, by kind (inject-timed.ts FaultCounts). */
  faults?: Record<string, number>;
}

/** Keeps the numeric leaves of a counter object (stats from other packages may carry strings or flags). */
export function numericLeaves(o: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (!o || typeof o !== 'object') return out;
  for (const [k, v] of Object.entries(o as Record<string, unknown>)) {
    if (typeof v === 'number') out[k] = v;
    else if (typeof v === 'boolean') out[k] = v ? 1 : 0;
    else if (v && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k2, v2] of Object.entries(numericLeaves(v))) out[`${k}.${k2}`] = v2;
    }
  }
  return out;
}

export interface JobTotals {
  messages: Record<string, number>;
  rcache: Record<string, number>;
  adapter: Record<string, number>;
  collectives: Record<string, number>;
  /** Sums over ranks of the time split. */
  time: TimeSplit;
  maxVirtualUs: number;
  /** With --inject: the faults injected, summed over ranks. */
  faults?: Record<string, number>;
}

export function sumStats(all: RankStats[]): JobTotals {
  const add = (into: Record<string, number>, from: object) => {
    for (const [k, v] of Object.entries(from)) if (typeof v === 'number') into[k] = (into[k] ?? 0) + v;
  };
  const t: JobTotals = { messages: {}, rcache: {}, adapter: {}, collectives: {}, time: { computeUs: 0, communicationUs: 0, waitingUs: 0 }, maxVirtualUs: 0 };
  for (const s of all) {
    add(t.messages, s.messages);
    add(t.rcache, s.rcache);
    add(t.adapter, s.adapter);
    add(t.collectives, s.collectives);
    if (s.time) {
      t.time.computeUs += s.time.computeUs;
      t.time.communicationUs += s.time.communicationUs;
      t.time.waitingUs += s.time.waitingUs;
    }
    t.maxVirtualUs = Math.max(t.maxVirtualUs, s.virtualUs);
    if (s.faults) add((t.faults ??= {}), s.faults);
  }
  return t;
}
