import { AddressSpace, PhysicalMemory } from '@tsmpi/vm';
import {
  Access, VirtualClock, createAdapter, costModel, type Adapter, type AdapterKind, type CompletionQueue, type Completion,
  type ProtectionDomain, type QueuePair, type PinMode, type CostModel,
} from '@tsmpi/fabric';

export const PAGE = 4096;
export const ALL = Access.LOCAL_WRITE | Access.REMOTE_WRITE | Access.REMOTE_READ;

/** One rank: an address space, its domain, a CQ for everything, and its clock. */
export interface Rank {
  space: AddressSpace;
  pd: ProtectionDomain;
  cq: CompletionQueue;
  clock: VirtualClock;
}

/** A node with two ranks whose QPs are connected to each other (same thread: the test drives both). */
export interface Pair {
  memory: PhysicalMemory;
  adapter: Adapter;
  a: Rank;
  b: Rank;
  qa: QueuePair;
  qb: QueuePair;
  cost: CostModel;
}

export function rank(adapter: Adapter, memory: PhysicalMemory, memlockLimit?: number): Rank {
  const space = new AddressSpace(memory, memlockLimit === undefined ? {} : { memlockLimit });
  const clock = new VirtualClock();
  const pd = adapter.openDomain(space, clock);
  return { space, pd, clock, cq: pd.createCompletionQueue({ depth: 64 }) };
}

export function pair(kind: AdapterKind, opts: { pinMode?: PinMode; memlockLimit?: number; rnrRetry?: number | 'infinite';
  cost?: Partial<CostModel> } = {}): Pair {
  const memory = new PhysicalMemory({ bytes: 32 * 1024 * 1024 });
  const cost = costModel('hdr', opts.cost ?? {});
  const adapter = createAdapter(kind, { memory, cost, ...(opts.pinMode ? { pinMode: opts.pinMode } : {}) });
  const a = rank(adapter, memory, opts.memlockLimit);
  const b = rank(adapter, memory, opts.memlockLimit);
  const qa = a.pd.createQueuePair({ sendCq: a.cq, recvCq: a.cq, rnrRetry: opts.rnrRetry ?? 'infinite' });
  const qb = b.pd.createQueuePair({ sendCq: b.cq, recvCq: b.cq, rnrRetry: opts.rnrRetry ?? 'infinite' });
  qa.connect(qb.address);
  qb.connect(qa.address);
  return { memory, adapter, a, b, qa, qb, cost };
}

/**
 * After a fatal completion (verbs: the QP is in the error state and flushes every later post), both
 * ends back to RESET and connected again — the one way to use the pair after an error.
 */
export function reconnect(p: Pair): void {
  p.qa.reset();
  p.qb.reset();
  p.qa.connect(p.qb.address);
  p.qb.connect(p.qa.address);
}

/** Fill `length` bytes at addr with a pattern derived from `seed`. */
export function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return out;
}

/** Exactly one completion, or fail with what was there. */
export function one(cq: CompletionQueue): Completion {
  const cs = cq.poll(16);
  if (cs.length !== 1) throw new Error(`expected one completion, got ${JSON.stringify(cs)}`);
  return cs[0]!;
}
