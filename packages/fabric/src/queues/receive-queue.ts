import { InvalidArgument, QueueFull } from '../errors.js';
import { lock, unlock } from '../shared/lock.js';
import {
  PKE_ADDR, PKE_ARRIVE, PKE_DST_QPN, PKE_IMM, PKE_LENGTH, PKE_LKEY, PKE_PAYLOAD, PKE_SEQ, PKE_SIGNALED, PKE_SRC_CHUNKS,
  PKE_SRC_NODE, PKE_SRC_QPN, PKE_WORDS, PKE_WRID, R_DEPTH, R_DOMAIN, R_HEAD, R_LOCK, R_PARK_DEPTH, R_PARK_HEAD, R_PARK_RING, R_PARK_TAIL,
  R_RING, R_SHARED, R_STATE, R_TAIL, RQ_STRIDE, RQE_ADDR, RQE_LENGTH, RQE_LKEY, RQE_POSTED_AT, RQE_WORDS, RQE_WRID,
} from '../shared/layout.js';
import type { AdapterState } from '../shared/state.js';
import type { ProtectionDomain } from '../domain.js';
import type { RecvWorkRequest } from '../types.js';

/** A posted receive buffer, as taken off the ring. */
export interface PostedRecv {
  wrId: number;
  lkey: number;
  addr: number;
  length: number;
  postedAt: number;
}

/** A send that found no receive and waits (rnrRetry infinite) in the receive queue. */
export interface ParkedSend {
  srcNode: number;
  srcQpn: number;
  dstQpn: number;
  lkey: number;
  addr: number;
  length: number;
  wrId: number;
  immData: number;
  arrive: number;
  signaled: boolean;
  /** A send from another process: its bytes in the arena (word offset), the chunks its sender faulted, its sequence number. */
  remote?: { payloadAt: number; srcChunks: number; seq: number };
}

const PARK_INITIAL = 16;

/*
 * One receive queue: a ring of posted receives and a ring of parked sends, both under R_LOCK.
 * At most one of them is non-empty: a post finding parked sends takes the oldest instead of
 * queuing, a send finding posted receives takes the oldest instead of parking.
 */
export function createReceiveQueue(state: AdapterState, domainId: number, depth: number, shared: boolean): number {
  if (!Number.isInteger(depth) || depth < 1 || depth > 1 << 20) {
    throw new InvalidArgument(`receive queue depth must be an integer in [1, 2^20], got ${depth}`);
  }
  const id = state.claimRow(state.rqs, RQ_STRIDE, state.limits.maxReceiveQueues, 1, undefined, 'receive-queue',
    'maxReceiveQueues');
  const row = id * RQ_STRIDE;
  const rqs = state.rqs;
  try {
    rqs[row + R_RING] = state.arena.alloc(depth * RQE_WORDS * 8, 'a receive queue');
  } catch (e) {
    Atomics.store(rqs, row + R_STATE, 0);
    throw e;
  }
  rqs[row + R_DOMAIN] = domainId;
  rqs[row + R_DEPTH] = depth;
  rqs[row + R_HEAD] = 0;
  rqs[row + R_TAIL] = 0;
  rqs[row + R_PARK_RING] = -1;
  rqs[row + R_PARK_DEPTH] = 0;
  rqs[row + R_PARK_HEAD] = 0;
  rqs[row + R_PARK_TAIL] = 0;
  rqs[row + R_SHARED] = shared ? 1 : 0;
  return id;
}

export function destroyReceiveQueue(state: AdapterState, id: number): void {
  const rqs = state.rqs;
  const row = id * RQ_STRIDE;
  lock(rqs, row + R_LOCK);
  state.arena.free(rqs[row + R_RING]!, rqs[row + R_DEPTH]! * RQE_WORDS * 8);
  if (rqs[row + R_PARK_RING]! >= 0) state.arena.free(rqs[row + R_PARK_RING]!, rqs[row + R_PARK_DEPTH]! * PKE_WORDS * 8);
  rqs[row + R_PARK_RING] = -1;
  unlock(rqs, row + R_LOCK);
  Atomics.store(rqs, row + R_STATE, 0);
}

/**
 * Owner: post a receive. If a send is parked, the receive is not queued: the oldest parked
 * send is returned for the caller to deliver into it.
 */
export function postOrUnpark(state: AdapterState, id: number, r: PostedRecv): ParkedSend | undefined {
  const rqs = state.rqs;
  const row = id * RQ_STRIDE;
  const f = state.arena.f64;
  lock(rqs, row + R_LOCK);
  try {
    const ph = rqs[row + R_PARK_HEAD]!;
    if (ph < rqs[row + R_PARK_TAIL]!) {
      const at = rqs[row + R_PARK_RING]! + (ph % rqs[row + R_PARK_DEPTH]!) * PKE_WORDS;
      rqs[row + R_PARK_HEAD] = ph + 1;
      return readParked(f, at);
    }
    const head = rqs[row + R_HEAD]!;
    const tail = rqs[row + R_TAIL]!;
    const depth = rqs[row + R_DEPTH]!;
    if (tail - head >= depth) {
      throw new QueueFull(`receive queue ${id}`, depth, 'post fewer receives at once or create it with a larger depth');
    }
    const at = rqs[row + R_RING]! + (tail % depth) * RQE_WORDS;
    f[at + RQE_WRID] = r.wrId;
    f[at + RQE_LKEY] = r.lkey;
    f[at + RQE_ADDR] = r.addr;
    f[at + RQE_LENGTH] = r.length;
    f[at + RQE_POSTED_AT] = r.postedAt;
    Atomics.store(rqs, row + R_TAIL, tail + 1);
    return undefined;
  } finally {
    unlock(rqs, row + R_LOCK);
  }
}

/**
 * A local send's park entry, filled in one object reused by every post of this thread: takeOrPark
 * copies it into the queue's ring under the lock, or never reads it (a receive was posted).
 */
export function localPark(
  srcNode: number, srcQpn: number, dstQpn: number, lkey: number, addr: number, length: number, wrId: number, immData: number,
  arrive: number, signaled: boolean,
): ParkedSend {
  const p = PARK;
  p.srcNode = srcNode; p.srcQpn = srcQpn; p.dstQpn = dstQpn; p.lkey = lkey; p.addr = addr; p.length = length;
  p.wrId = wrId; p.immData = immData; p.arrive = arrive; p.signaled = signaled;
  return p;
}

const PARK: ParkedSend = { srcNode: 0, srcQpn: 0, dstQpn: 0, lkey: 0, addr: 0, length: 0, wrId: 0, immData: -1, arrive: 0, signaled: true };

/**
 * Sender's thread: take the oldest posted receive; if there is none and `park` is given, park
 * it (the receiver delivers it at its next post). Returns the receive, 'parked', or 'none'.
 */
export function takeOrPark(state: AdapterState, id: number, park: ParkedSend | undefined): PostedRecv | 'parked' | 'none' {
  const rqs = state.rqs;
  const row = id * RQ_STRIDE;
  const f = state.arena.f64;
  lock(rqs, row + R_LOCK);
  try {
    const head = rqs[row + R_HEAD]!;
    // A parked send ahead of us keeps its place: sends on one queue are delivered in order.
    if (head < rqs[row + R_TAIL]! && rqs[row + R_PARK_HEAD] === rqs[row + R_PARK_TAIL]) {
      const at = rqs[row + R_RING]! + (head % rqs[row + R_DEPTH]!) * RQE_WORDS;
      Atomics.store(rqs, row + R_HEAD, head + 1);
      return {
        wrId: f[at + RQE_WRID]!, lkey: f[at + RQE_LKEY]!, addr: f[at + RQE_ADDR]!, length: f[at + RQE_LENGTH]!,
        postedAt: f[at + RQE_POSTED_AT]!,
      };
    }
    if (park === undefined) return 'none';
    parkLocked(state, row, park);
    return 'parked';
  } finally {
    unlock(rqs, row + R_LOCK);
  }
}

function parkLocked(state: AdapterState, row: number, p: ParkedSend): void {
  const rqs = state.rqs;
  let ring = rqs[row + R_PARK_RING]!;
  let depth = rqs[row + R_PARK_DEPTH]!;
  const head = rqs[row + R_PARK_HEAD]!;
  const tail = rqs[row + R_PARK_TAIL]!;
  const f = state.arena.f64;
  if (ring < 0 || tail - head >= depth) {
    // Grow by doubling: copy the live entries to the front of a new ring.
    const nDepth = ring < 0 ? PARK_INITIAL : depth * 2;
    const nRing = state.arena.alloc(nDepth * PKE_WORDS * 8, 'parked sends');
    for (let i = head; i < tail; i++) {
      const src = ring + (i % depth) * PKE_WORDS;
      f.copyWithin(nRing + (i - head) * PKE_WORDS, src, src + PKE_WORDS);
    }
    if (ring >= 0) state.arena.free(ring, depth * PKE_WORDS * 8);
    ring = nRing;
    depth = nDepth;
    rqs[row + R_PARK_RING] = ring;
    rqs[row + R_PARK_DEPTH] = depth;
    rqs[row + R_PARK_HEAD] = 0;
    rqs[row + R_PARK_TAIL] = tail - head;
  }
  const t = rqs[row + R_PARK_TAIL]!;
  const at = ring + (t % depth) * PKE_WORDS;
  f[at + PKE_SRC_NODE] = p.srcNode;
  f[at + PKE_SRC_QPN] = p.srcQpn;
  f[at + PKE_DST_QPN] = p.dstQpn;
  f[at + PKE_LKEY] = p.lkey;
  f[at + PKE_ADDR] = p.addr;
  f[at + PKE_LENGTH] = p.length;
  f[at + PKE_WRID] = p.wrId;
  f[at + PKE_IMM] = p.immData;
  f[at + PKE_ARRIVE] = p.arrive;
  f[at + PKE_SIGNALED] = p.signaled ? 1 : 0;
  f[at + PKE_PAYLOAD] = p.remote === undefined ? -1 : p.remote.payloadAt;
  f[at + PKE_SRC_CHUNKS] = p.remote === undefined ? 0 : p.remote.srcChunks;
  f[at + PKE_SEQ] = p.remote === undefined ? 0 : p.remote.seq;
  rqs[row + R_PARK_TAIL] = t + 1;
}

function readParked(f: Float64Array, at: number): ParkedSend {
  const p: ParkedSend = {
    srcNode: f[at + PKE_SRC_NODE]!, srcQpn: f[at + PKE_SRC_QPN]!, dstQpn: f[at + PKE_DST_QPN]!,
    lkey: f[at + PKE_LKEY]!, addr: f[at + PKE_ADDR]!, length: f[at + PKE_LENGTH]!, wrId: f[at + PKE_WRID]!,
    immData: f[at + PKE_IMM]!, arrive: f[at + PKE_ARRIVE]!, signaled: f[at + PKE_SIGNALED]! === 1,
  };
  const payloadAt = f[at + PKE_PAYLOAD]!;
  if (payloadAt >= 0) p.remote = { payloadAt, srcChunks: f[at + PKE_SRC_CHUNKS]!, seq: f[at + PKE_SEQ]! };
  return p;
}

/** Posted receives and parked sends currently queued. */
export function queueDepths(state: AdapterState, id: number): { posted: number; parked: number } {
  const rqs = state.rqs;
  const row = id * RQ_STRIDE;
  lock(rqs, row + R_LOCK);
  const posted = rqs[row + R_TAIL]! - rqs[row + R_HEAD]!;
  const parked = rqs[row + R_PARK_TAIL]! - rqs[row + R_PARK_HEAD]!;
  unlock(rqs, row + R_LOCK);
  return { posted, parked };
}

/** Owner, at close: take every parked send (their senders must hear that the QP went away). */
export function drainParked(state: AdapterState, id: number): ParkedSend[] {
  const out: ParkedSend[] = [];
  const rqs = state.rqs;
  const row = id * RQ_STRIDE;
  const f = state.arena.f64;
  lock(rqs, row + R_LOCK);
  for (let ph = rqs[row + R_PARK_HEAD]!; ph < rqs[row + R_PARK_TAIL]!; ph++) {
    const at = rqs[row + R_PARK_RING]! + (ph % rqs[row + R_PARK_DEPTH]!) * PKE_WORDS;
    out.push(readParked(f, at));
  }
  rqs[row + R_PARK_HEAD] = rqs[row + R_PARK_TAIL]!;
  unlock(rqs, row + R_LOCK);
  return out;
}

/** A shared receive queue: receives posted here serve every QP created with it. */
export class ReceiveQueue {
  readonly id: number;
  readonly depth: number;
  private readonly pd: ProtectionDomain;

  /** @internal created by ProtectionDomain.createSharedReceiveQueue */
  constructor(pd: ProtectionDomain, id: number, depth: number) {
    this.pd = pd;
    this.id = id;
    this.depth = depth;
  }

  postRecv(wr: RecvWorkRequest): void {
    this.pd.postRecvTo(this.id, wr);
  }

  /** Receives posted and not yet consumed. */
  get posted(): number {
    return queueDepths(this.pd.adapter.state, this.id).posted;
  }

  /** Sends parked here waiting for a receive. */
  get parked(): number {
    return queueDepths(this.pd.adapter.state, this.id).parked;
  }
}

/** Owner, when its QP enters the error state: take every posted receive (they complete with a flush error). */
export function drainPosted(state: AdapterState, id: number): PostedRecv[] {
  const out: PostedRecv[] = [];
  const rqs = state.rqs;
  const row = id * RQ_STRIDE;
  const f = state.arena.f64;
  lock(rqs, row + R_LOCK);
  for (let h = rqs[row + R_HEAD]!; h < rqs[row + R_TAIL]!; h++) {
    const at = rqs[row + R_RING]! + (h % rqs[row + R_DEPTH]!) * RQE_WORDS;
    out.push({ wrId: f[at + RQE_WRID]!, lkey: f[at + RQE_LKEY]!, addr: f[at + RQE_ADDR]!, length: f[at + RQE_LENGTH]!,
      postedAt: f[at + RQE_POSTED_AT]! });
  }
  Atomics.store(rqs, row + R_HEAD, rqs[row + R_TAIL]!);
  unlock(rqs, row + R_LOCK);
  return out;
}

/**
 * A QP entered the error state: take the sends parked in queue `id` that `which` picks (the QP's own,
 * parked at its peer; or those that wait for it, in its own queue); the others keep their order.
 */
export function takeParked(state: AdapterState, id: number, which: (p: ParkedSend) => boolean): ParkedSend[] {
  const taken: ParkedSend[] = [];
  const rqs = state.rqs;
  const row = id * RQ_STRIDE;
  const f = state.arena.f64;
  lock(rqs, row + R_LOCK);
  const ring = rqs[row + R_PARK_RING]!;
  const depth = rqs[row + R_PARK_DEPTH]!;
  let kept = rqs[row + R_PARK_HEAD]!;
  for (let ph = kept; ph < rqs[row + R_PARK_TAIL]!; ph++) {
    const at = ring + (ph % depth) * PKE_WORDS;
    const p = readParked(f, at);
    if (which(p)) {
      taken.push(p);
      continue;
    }
    if (kept !== ph) f.copyWithin(ring + (kept % depth) * PKE_WORDS, at, at + PKE_WORDS);
    kept++;
  }
  rqs[row + R_PARK_TAIL] = kept;
  unlock(rqs, row + R_LOCK);
  return taken;
}
