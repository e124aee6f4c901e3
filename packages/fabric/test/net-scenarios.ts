/*
 * Two-rank scenarios run twice by net-wire.test.ts: once in one thread over InProcessWire, once as
 * two node processes over NetworkWire (workers/net-node.ts, workers/net-rank.ts). Each role returns
 * what it saw (completions with their virtual times, its clock, its counters, byte checks); the test
 * asserts the two runs are identical. Roles meet at `exchange` (a barrier that swaps data), so the
 * order of operations is the same in both runs.
 */
import type { AddressSpace } from '@tsmpi/vm';
import { Access, type Completion, type CompletionQueue, type ProtectionDomain, type QpAddress, type QueuePair, type VirtualClock } from '@tsmpi/fabric';

export interface NetRank {
  space: AddressSpace;
  pd: ProtectionDomain;
  cq: CompletionQueue;
  qp: QueuePair;
  clock: VirtualClock;
  /** Swap `mine` for the other rank's; both continue once both arrived. */
  exchange<T>(mine: T): Promise<T>;
  /** The next completion (in one thread: after letting the other rank run). */
  waitOne(): Promise<Completion>;
}

export type Role = (r: NetRank) => Promise<Record<string, unknown>>;

const ALL = Access.LOCAL_WRITE | Access.REMOTE_WRITE | Access.REMOTE_READ;

export function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return out;
}

const differing = (x: Uint8Array, y: Uint8Array): number => x.reduce((n, v, i) => n + (v === y[i] ? 0 : 1), 0);

/** A completion as compared between runs, after the rank acted on it (its clock advanced to it). */
function took(r: NetRank, c: Completion): Completion {
  r.clock.advanceTo(c.time);
  return c;
}

function report(r: NetRank, extra: Record<string, unknown>): Record<string, unknown> {
  return { ...extra, clock: r.clock.now, stats: r.pd.stats };
}

/** Sizes that cross pages; a length error; a send parked for lack of a receive and delivered by the receiver's post. */
const sendRecv: [Role, Role] = [
  async (r) => {
    const LEN = 64 * 1024;
    const buf = r.space.mmap(LEN);
    r.space.write(buf, pattern(LEN, 3));
    const mr = r.pd.registerMemory(buf, LEN, Access.LOCAL_WRITE);
    const sizes = [8, 5000, 40_000];
    await r.exchange('receives posted');
    const sends: Completion[] = [];
    sizes.forEach((n, i) => r.qp.postSend({ wrId: 10 + i, sge: { lkey: mr.lkey, addr: buf + 1, length: n }, immData: 100 + i }));
    for (let i = 0; i < sizes.length; i++) sends.push(took(r, await r.waitOne()));
    r.qp.postSend({ wrId: 30, sge: { lkey: mr.lkey, addr: buf + 7, length: 3000 }, immData: 7 });
    // Wait until the responder has parked it (the counter moves when it says so), so the receiver posts after.
    for (const until = Date.now() + 10_000; r.pd.stats.rnrParked < 1 && Date.now() < until;) await new Promise((res) => setTimeout(res, 1));
    await r.exchange('parked');
    const parked = took(r, await r.waitOne());
    // An unsignaled send is counted before its post returns, as in one process, though its answer comes later.
    await r.exchange('ready for an unsignaled send');
    r.qp.postSend({ wrId: 40, sge: { lkey: mr.lkey, addr: buf, length: 40 }, signaled: false });
    const countedAtPost = r.pd.stats.sendOps;
    await r.exchange('unsignaled sent');
    // last: a length error is fatal for both QPs (verbs), so nothing could follow it on this pair
    await r.exchange('a short receive posted');
    r.qp.postSend({ wrId: 20, sge: { lkey: mr.lkey, addr: buf, length: 100 } });
    const tooLong = took(r, await r.waitOne());
    return report(r, { sends, tooLong, parked, countedAtPost });
  },
  async (r) => {
    const LEN = 64 * 1024;
    const buf = r.space.mmap(LEN);
    const mr = r.pd.registerMemory(buf, LEN, Access.LOCAL_WRITE);
    const sizes = [8, 5000, 40_000];
    let at = buf;
    const offsets: number[] = [];
    for (const [i, n] of sizes.entries()) {
      offsets.push(at);
      r.qp.postRecv({ wrId: 1 + i, sge: { lkey: mr.lkey, addr: at, length: n } });
      at += n + 13;
    }
    await r.exchange('receives posted');
    const recvs: Completion[] = [];
    for (let i = 0; i < sizes.length; i++) recvs.push(took(r, await r.waitOne()));
    const wrong = sizes.reduce((w, n, i) => w + differing(r.space.read(offsets[i]!, n), pattern(LEN, 3).subarray(1, 1 + n)), 0);
    await r.exchange('parked');
    r.clock.advance(50); // the receive comes late in virtual time too: priced as a retry after the RNR timer
    r.qp.postRecv({ wrId: 5, sge: { lkey: mr.lkey, addr: buf + 100, length: 4096 } });
    const late = took(r, await r.waitOne());
    const lateWrong = differing(r.space.read(buf + 100, 3000), pattern(LEN, 3).subarray(7, 3007));
    r.qp.postRecv({ wrId: 6, sge: { lkey: mr.lkey, addr: buf + 8192, length: 64 } });
    await r.exchange('ready for an unsignaled send');
    await r.exchange('unsignaled sent');
    const unsignaled = took(r, await r.waitOne());
    r.qp.postRecv({ wrId: 4, sge: { lkey: mr.lkey, addr: buf, length: 16 } });
    await r.exchange('a short receive posted');
    const short = took(r, await r.waitOne());
    return report(r, { recvs, wrong, short, late, lateWrong, unsignaled });
  },
];

/** RDMA read and write, unaligned and page-crossing; a bad rkey and an out-of-bounds write. */
const rdma: [Role, Role] = [
  async (r) => {
    const LEN = 256 * 1024;
    const local = r.space.mmap(LEN);
    const lmr = r.pd.registerMemory(local, LEN, ALL);
    const far = await r.exchange<{ addr: number; rkey: number; qp: QpAddress | undefined }>({ addr: 0, rkey: 0, qp: undefined });
    // an error completion leaves the QP in ERR (verbs): back to RESET and connected again to go on
    const reconnect = (): void => {
      r.qp.reset();
      r.qp.connect(far.qp!);
    };
    r.qp.rdmaRead({ wrId: 1, sge: { lkey: lmr.lkey, addr: local, length: LEN }, remoteAddr: far.addr, rkey: far.rkey });
    const read = took(r, await r.waitOne());
    const readWrong = differing(r.space.read(local, LEN), pattern(LEN, 1));
    r.space.write(local, pattern(LEN, 2));
    r.qp.rdmaWrite({ wrId: 2, sge: { lkey: lmr.lkey, addr: local + 5, length: 100_000 }, remoteAddr: far.addr + 4099, rkey: far.rkey });
    const write = took(r, await r.waitOne());
    r.qp.rdmaRead({ wrId: 3, sge: { lkey: lmr.lkey, addr: local, length: 64 }, remoteAddr: far.addr, rkey: far.rkey ^ 1 });
    const badKey = took(r, await r.waitOne());
    const afterError = r.qp.qpState;
    reconnect();
    r.qp.rdmaWrite({ wrId: 4, sge: { lkey: lmr.lkey, addr: local, length: 64 }, remoteAddr: far.addr + LEN - 32, rkey: far.rkey });
    const outOfBounds = took(r, await r.waitOne());
    reconnect();
    r.qp.rdmaWrite({ wrId: 5, sge: { lkey: lmr.lkey, addr: local, length: 0 }, remoteAddr: far.addr, rkey: 0 });
    const empty = took(r, await r.waitOne());
    // Atomics on the target's last word: the old value lands in our buffer.
    const word = far.addr + LEN - 16;
    const oldAt = (): bigint => new DataView(r.space.read(local + 64, 8).buffer).getBigInt64(0, true);
    r.qp.atomicFetchAdd({ wrId: 6, sge: { lkey: lmr.lkey, addr: local + 64, length: 8 }, remoteAddr: word, rkey: far.rkey, compareAdd: 5n });
    const add = { c: took(r, await r.waitOne()), old: String(oldAt()) };
    r.qp.atomicCompareSwap({ wrId: 7, sge: { lkey: lmr.lkey, addr: local + 64, length: 8 }, remoteAddr: word, rkey: far.rkey,
      compareAdd: BigInt.asIntN(64, new DataView(pattern(LEN, 1).buffer).getBigInt64(LEN - 16, true) + 5n), swap: -1n });
    const swapped = { c: took(r, await r.waitOne()), old: String(oldAt()) };
    r.qp.atomicFetchAdd({ wrId: 8, sge: { lkey: lmr.lkey, addr: local + 64, length: 8 }, remoteAddr: word + 4, rkey: far.rkey, compareAdd: 1n });
    const misaligned = took(r, await r.waitOne());
    await r.exchange('done');
    return report(r, { read, readWrong, write, badKey, afterError, outOfBounds, empty, add, swapped, misaligned });
  },
  async (r) => {
    const LEN = 256 * 1024;
    const buf = r.space.mmap(LEN);
    r.space.write(buf, pattern(LEN, 1));
    const mr = r.pd.registerMemory(buf, LEN, ALL | Access.REMOTE_ATOMIC);
    // whole in one process (a local peer needs its page table); over the network only its numbers are used
    await r.exchange({ addr: buf, rkey: mr.rkey, qp: r.qp.address });
    await r.exchange('done');
    const lastWord = String(new DataView(r.space.read(buf + LEN - 16, 8).buffer).getBigInt64(0, true));
    const written = differing(r.space.read(buf + 4099, 100_000), pattern(LEN, 2).subarray(5, 100_005));
    const untouched = differing(r.space.read(buf, 4099), pattern(LEN, 1).subarray(0, 4099));
    return report(r, { written, untouched, lastWord });
  },
];

/**
 * The stale-registration scenario across nodes: the target frees its registered buffer and maps a
 * new one at the same address. pinning: the initiator's read still returns the old frames' bytes;
 * odp: the target's munmap zapped the region's table, the read faults in the new frames.
 */
const stale: [Role, Role] = [
  async (r) => {
    const LEN = 64 * 1024;
    const local = r.space.mmap(LEN);
    const lmr = r.pd.registerMemory(local, LEN, ALL);
    const far = await r.exchange<{ addr: number; rkey: number }>({ addr: 0, rkey: 0 });
    const read = async (wrId: number): Promise<Completion> => {
      r.qp.rdmaRead({ wrId, sge: { lkey: lmr.lkey, addr: local, length: LEN }, remoteAddr: far.addr, rkey: far.rkey });
      return took(r, await r.waitOne());
    };
    const first = await read(1);
    const firstOld = LEN - differing(r.space.read(local, LEN), pattern(LEN, 1));
    await r.exchange('read once');
    await r.exchange('remapped');
    const second = await read(2);
    const staleBytes = LEN - differing(r.space.read(local, LEN), pattern(LEN, 1));
    const freshBytes = LEN - differing(r.space.read(local, LEN), pattern(LEN, 2));
    await r.exchange('done');
    return report(r, { first, firstOld, second, staleBytes, freshBytes });
  },
  async (r) => {
    const LEN = 64 * 1024;
    const buf = r.space.mmap(LEN);
    r.space.write(buf, pattern(LEN, 1));
    const mr = r.pd.registerMemory(buf, LEN, ALL);
    await r.exchange({ addr: buf, rkey: mr.rkey });
    await r.exchange('read once');
    r.space.munmap(buf, LEN);
    const again = r.space.mmap(LEN);
    r.space.write(again, pattern(LEN, 2));
    await r.exchange('remapped');
    await r.exchange('done');
    return report(r, { sameAddress: again === buf });
  },
];

/**
 * For the fault tests (network only): rank 0's send waits, parked at node 1 for lack of a receive,
 * when the test kills node 1. It must complete RETRY_EXCEEDED, not hang.
 */
const closedPeer: [Role, Role] = [
  async (r) => {
    const buf = r.space.mmap(4096);
    const mr = r.pd.registerMemory(buf, 4096, Access.LOCAL_WRITE);
    await r.exchange('connected'); // a send before the peer's connect() would fail RETRY_EXCEEDED at once
    r.qp.postSend({ wrId: 99, sge: { lkey: mr.lkey, addr: buf, length: 64 } });
    for (const until = Date.now() + 10_000; r.pd.stats.rnrParked < 1 && Date.now() < until;) await new Promise((res) => setTimeout(res, 1));
    await r.exchange('parked');
    const c = await r.waitOne();
    return report(r, { c });
  },
  async (r) => {
    await r.exchange('connected');
    await r.exchange('parked');
    return new Promise(() => {}); // never posts a receive; the test kills this node
  },
];

/**
 * For the fault tests (network only): node 1's arena cannot hold a 2 MiB send parked for lack of a
 * receive (one process would throw at the post); the sender must get an error completion.
 */
const arenaFull: [Role, Role] = [
  async (r) => {
    const LEN = 2 * 1024 * 1024;
    const buf = r.space.mmap(LEN);
    const mr = r.pd.registerMemory(buf, LEN, Access.LOCAL_WRITE);
    await r.exchange('connected');
    r.qp.postSend({ wrId: 77, sge: { lkey: mr.lkey, addr: buf, length: LEN } });
    const c = await r.waitOne();
    await r.exchange('done');
    return report(r, { c });
  },
  async (r) => {
    await r.exchange('connected');
    await r.exchange('done');
    return report(r, {});
  },
];

export const scenarios: Record<string, [Role, Role]> = {
  'send-recv': sendRecv, rdma, stale, 'closed-peer': closedPeer, 'arena-full': arenaFull,
};
