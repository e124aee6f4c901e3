import { AddressSpace, PhysicalMemory } from '@tsmpi/vm';
import { describe, expect, it } from 'vitest';
import {
  InProcessWire, VirtualClock, costModel, createAdapter, gapPerByteUs, transferTimes,
  type Completion, type CompletionQueue, type MemoryRegion, type QueuePair,
} from '@tsmpi/fabric';
import { ALL, pattern } from './fixture.js';

const MiB = 1 << 20;
const cost = costModel('hdr');
const o = cost.overheadUs;
const L = cost.latencyUs;
const G = gapPerByteUs(cost, false);

/** A simulated cluster: one adapter (one HCA port) and one memory per node, all on one in-process wire. */
function cluster(nodes: number, memoryBytes = 8 * MiB) {
  const memories = Array.from({ length: nodes }, () => new PhysicalMemory({ bytes: memoryBytes }));
  const adapters = memories.map((memory, nodeId) => createAdapter('pinning', { memory, cost, nodeId }));
  const wire = new InProcessWire(adapters);
  const rank = (node: number) => {
    const space = new AddressSpace(memories[node]!, { memlockLimit: Infinity });
    const clock = new VirtualClock();
    const pd = adapters[node]!.openDomain(space, clock, { wire });
    return { node, space, clock, pd, cq: pd.createCompletionQueue({ depth: 1024 }) };
  };
  return { adapters, rank };
}
type Rank = ReturnType<ReturnType<typeof cluster>['rank']>;

function connect(a: Rank, b: Rank): [QueuePair, QueuePair] {
  const qa = a.pd.createQueuePair({ sendCq: a.cq, recvCq: a.cq });
  const qb = b.pd.createQueuePair({ sendCq: b.cq, recvCq: b.cq });
  qa.connect(qb.address);
  qb.connect(qa.address);
  return [qa, qb];
}

/** A registered buffer of `length` bytes filled with pattern(seed). */
function buffer(r: Rank, length: number, seed: number): { addr: number; mr: MemoryRegion } {
  const addr = r.space.mmap(length);
  r.space.write(addr, pattern(length, seed));
  return { addr, mr: r.pd.registerMemory(addr, length, ALL) };
}

function drain(cq: CompletionQueue): Completion[] {
  const out: Completion[] = [];
  for (let cs = cq.poll(64); cs.length > 0; cs = cq.poll(64)) out.push(...cs);
  return out;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

describe('one port serializes the bytes that cross it (LogGP gap)', () => {
  it('a window of 64 sends of 1 MiB takes at least 64 · 1 MiB · G: the window never beats the link', () => {
    const c = cluster(2, 80 * MiB);
    const a = c.rank(0);
    const b = c.rank(1);
    const [qa, qb] = connect(a, b);
    const src = buffer(a, MiB, 1);
    const dst = buffer(b, 64 * MiB, 2);
    for (let i = 0; i < 64; i++) qb.postRecv({ wrId: i, sge: { lkey: dst.mr.lkey, addr: dst.addr + i * MiB, length: MiB } });
    a.clock.set(b.clock.now); // the receives are posted (b registered 64 MiB first): no RNR wait
    const t0 = a.clock.now;
    for (let i = 0; i < 64; i++) qa.postSend({ wrId: i, sge: { lkey: src.mr.lkey, addr: src.addr, length: MiB } });
    expect(a.clock.now).toBeCloseTo(t0 + 64 * o, 9); // posting costs o each, nothing more

    const recvs = drain(b.cq);
    const sends = drain(a.cq);
    expect(recvs.map((r) => [r.status, r.byteLength, r.wrId])).toEqual(Array.from({ length: 64 }, (_, i) => [0, MiB, i]));
    expect(sends.map((s) => s.status)).toEqual(new Array(64).fill(0));
    for (let i = 0; i < 64; i++) expect(same(b.space.read(dst.addr + i * MiB, MiB), pattern(MiB, 1))).toBe(true);

    // Each 1 MiB holds the sender's port for n·G (45.6 µs) and o is 0.3 µs: message i starts i·n·G after the first.
    const last = recvs[63]!.time;
    expect(last - t0).toBeGreaterThanOrEqual(64 * MiB * G - 1e-6);
    expect(last).toBeCloseTo(t0 + o + L + 64 * MiB * G, 6);
    for (let i = 1; i < 64; i++) expect(recvs[i]!.time - recvs[i - 1]!.time).toBeCloseTo(MiB * G, 6);
    expect(sends[63]!.time).toBeCloseTo(last + L, 6);
    const virtualGBps = (64 * MiB) / (last - t0) / 1000;
    expect(virtualGBps).toBeLessThanOrEqual(cost.bandwidthGBps);
    // Priced alone (no port), the last message would have arrived o + L + n·G (46.5 µs) after its own post,
    // 65 µs after the first: 1 GB/s · 1000 per µs → a 1032 GB/s "link".
    const alone = transferTimes(cost, 'send', MiB, t0 + 63 * o, false);
    expect(alone.arrive - (t0 + 63 * o)).toBeCloseTo(o + L + MiB * G, 9);
    expect(last - t0).toBeGreaterThan(40 * (alone.arrive - t0));

    expect(c.adapters[0]!.portStats).toMatchObject({
      transmit: { reservations: 64, waited: 63, backfilled: 0, merged: 0 },
      receive: { reservations: 0, waited: 0, freeAt: 0 },
    });
    expect(c.adapters[0]!.portStats.transmit.busyUs).toBeCloseTo(64 * MiB * G, 6);
    expect(c.adapters[0]!.portStats.transmit.freeAt).toBeCloseTo(t0 + o + 64 * MiB * G, 6);
    expect(c.adapters[1]!.portStats).toMatchObject({
      transmit: { reservations: 0 },
      receive: { reservations: 64, waited: 0, backfilled: 0, merged: 0, freeAt: last },
    });
  });

  it('seven senders into one receiver share its port: each one\'s data lands at least n·G after the previous', () => {
    const n = 256 * 1024;
    const c = cluster(8);
    const root = c.rank(0);
    const dst = buffer(root, 7 * n, 0);
    const senders = Array.from({ length: 7 }, (_, k) => {
      const r = c.rank(k + 1);
      const [qs, qr] = connect(r, root);
      qr.postRecv({ wrId: k, sge: { lkey: dst.mr.lkey, addr: dst.addr + k * n, length: n } });
      return { r, qs, src: buffer(r, n, 10 + k) };
    });
    const t0 = 1000; // every sender posts at the same virtual time, after the root posted its receives
    expect(root.clock.now).toBeLessThan(t0);
    for (const s of senders) s.r.clock.set(t0);
    for (const [k, s] of senders.entries()) s.qs.postSend({ wrId: k, sge: { lkey: s.src.mr.lkey, addr: s.src.addr, length: n } });

    const recvs = drain(root.cq);
    expect(recvs.map((r) => [r.status, r.byteLength]).sort()).toEqual(new Array(7).fill([0, n]));
    for (let k = 0; k < 7; k++) expect(same(root.space.read(dst.addr + k * n, n), pattern(n, 10 + k))).toBe(true);
    const lands = recvs.map((r) => r.time).sort((x, y) => x - y);
    expect(lands[0]).toBeCloseTo(transferTimes(cost, 'send', n, t0, false).arrive, 9); // the first one has the port to itself
    for (let i = 1; i < 7; i++) expect(lands[i]! - lands[i - 1]!).toBeGreaterThanOrEqual(n * G - 1e-9);
    // The gather needs 7 · n · G of the root's port (79.8 µs at 23 GB/s), not one message time (~12 µs).
    expect(lands[6]! - t0).toBeCloseTo(o + L + 7 * n * G, 6);
    expect(c.adapters[0]!.portStats.receive).toMatchObject({ reservations: 7, waited: 6, backfilled: 0, merged: 0 });
    for (let k = 1; k <= 7; k++) expect(c.adapters[k]!.portStats.transmit).toMatchObject({ reservations: 1, waited: 0 });
  });

  it('an RDMA read\'s data uses the responder\'s transmit side and the initiator\'s receive side (full duplex)', () => {
    const n = MiB;
    const c = cluster(3);
    const a = c.rank(0);
    const b = c.rank(1);
    const d = c.rank(2);
    const [qab] = connect(a, b);
    const [qdb] = connect(d, b);
    const la = buffer(a, 2 * n, 1);
    const rb = buffer(b, 2 * n, 2);
    const ld = buffer(d, n, 3);
    a.clock.set(100);
    b.clock.set(100);
    d.clock.set(100);
    // a writes to b and reads from b at once: a.tx + b.rx for one, b.tx + a.rx for the other. Neither waits.
    qab.rdmaWrite({ wrId: 1, sge: { lkey: la.mr.lkey, addr: la.addr, length: n }, remoteAddr: rb.addr, rkey: rb.mr.rkey });
    qab.rdmaRead({ wrId: 2, sge: { lkey: la.mr.lkey, addr: la.addr + n, length: n }, remoteAddr: rb.addr + n, rkey: rb.mr.rkey });
    const [w, r] = drain(a.cq);
    expect([w!.status, r!.status]).toEqual([0, 0]);
    expect(w!.time).toBeCloseTo(transferTimes(cost, 'write', n, 100, false).complete, 9);
    expect(r!.time).toBeCloseTo(transferTimes(cost, 'read', n, 100 + o, false).complete, 9);
    expect(same(a.space.read(la.addr + n, n), pattern(2 * n, 2).subarray(n))).toBe(true);
    // d reads from b at the same virtual time: b's transmit side is a's read's until it is done.
    qdb.rdmaRead({ wrId: 3, sge: { lkey: ld.mr.lkey, addr: ld.addr, length: n }, remoteAddr: rb.addr, rkey: rb.mr.rkey });
    const [dr] = drain(d.cq);
    const aStart = 100 + 2 * o + L;
    expect(dr!.time).toBeCloseTo(aStart + n * G + L + n * G, 6);
    expect(same(d.space.read(ld.addr, n), pattern(n, 1))).toBe(true); // a's write landed first
    expect(c.adapters[1]!.portStats).toMatchObject({
      transmit: { reservations: 2, waited: 1 },
      receive: { reservations: 1, waited: 0 },
    });
    expect(c.adapters[0]!.portStats).toMatchObject({ transmit: { reservations: 1 }, receive: { reservations: 1 } });
    expect(c.adapters[2]!.portStats).toMatchObject({ transmit: { reservations: 0 }, receive: { reservations: 1, waited: 0 } });
  });

  it('same-node traffic goes through the node\'s one port both ways (loopback)', () => {
    const n = MiB;
    const c = cluster(1);
    const a = c.rank(0);
    const b = c.rank(0);
    const [qa, qb] = connect(a, b);
    const ba = buffer(a, 2 * n, 1);
    const bb = buffer(b, 2 * n, 2);
    a.clock.set(50);
    b.clock.set(50);
    qa.rdmaWrite({ wrId: 1, sge: { lkey: ba.mr.lkey, addr: ba.addr, length: n }, remoteAddr: bb.addr, rkey: bb.mr.rkey });
    qb.rdmaWrite({ wrId: 2, sge: { lkey: bb.mr.lkey, addr: bb.addr + n, length: n }, remoteAddr: ba.addr + n, rkey: ba.mr.rkey });
    const [ca] = drain(a.cq);
    const [cb] = drain(b.cq);
    expect(ca!.time).toBeCloseTo(transferTimes(cost, 'write', n, 50, true).complete, 9);
    expect(cb!.time).toBeCloseTo(ca!.time + n * gapPerByteUs(cost, true), 6);
    expect(c.adapters[0]!.portStats).toMatchObject({
      transmit: { reservations: 2, waited: 1, backfilled: 0 },
      receive: { reservations: 2, waited: 0 },
    });
  });

  it('a post later in real time but earlier in virtual time takes the free gap before a later reservation', () => {
    const n = MiB;
    const run = (order: 'early-first' | 'late-first') => {
      const c = cluster(3);
      const root = c.rank(0);
      const dst = buffer(root, 2 * n, 0);
      const early = c.rank(1);
      const late = c.rank(2);
      const [qe, qre] = connect(early, root);
      const [ql, qrl] = connect(late, root);
      qre.postRecv({ wrId: 1, sge: { lkey: dst.mr.lkey, addr: dst.addr, length: n } });
      qrl.postRecv({ wrId: 2, sge: { lkey: dst.mr.lkey, addr: dst.addr + n, length: n } });
      const se = buffer(early, n, 1);
      const sl = buffer(late, n, 2);
      early.clock.set(1000); // after the root's receives (its 2 MiB registration)
      late.clock.set(2000);
      const posts = [
        () => qe.postSend({ wrId: 1, sge: { lkey: se.mr.lkey, addr: se.addr, length: n } }),
        () => ql.postSend({ wrId: 2, sge: { lkey: sl.mr.lkey, addr: sl.addr, length: n } }),
      ];
      if (order === 'late-first') posts.reverse();
      for (const post of posts) post();
      const byWr = new Map(drain(root.cq).map((r) => [r.wrId, r.time]));
      return { early: byWr.get(1)!, late: byWr.get(2)!, port: c.adapters[0]!.portStats.receive };
    };
    const a = run('early-first');
    const b = run('late-first');
    expect(a.early).toBeCloseTo(transferTimes(cost, 'send', n, 1000, false).arrive, 9);
    expect(a.late).toBeCloseTo(transferTimes(cost, 'send', n, 2000, false).arrive, 9);
    expect([b.early, b.late]).toEqual([a.early, a.late]);
    expect(a.port).toMatchObject({ reservations: 2, waited: 0, backfilled: 0 });
    expect(b.port).toMatchObject({ reservations: 2, waited: 0, backfilled: 1 });
  });

  it('keeps 128 busy intervals per side: one more merges the closest two, so only a post inside that gap waits', () => {
    const c = cluster(2);
    const a = c.rank(0);
    const b = c.rank(1);
    const [qa] = connect(a, b);
    const src = buffer(a, 4096, 1);
    const dst = buffer(b, 4096, 2);
    const write = (at: number): Completion => {
      a.clock.set(at);
      qa.rdmaWrite({ wrId: 1, sge: { lkey: src.mr.lkey, addr: src.addr, length: 1 }, remoteAddr: dst.addr, rkey: dst.mr.rkey });
      return drain(a.cq)[0]!;
    };
    for (let i = 0; i < 127; i++) write(i * 50); // 127 disjoint 1-byte occupancies, 50 µs apart
    write(160); // a 128th, 10 µs after the one at 150
    expect(c.adapters[0]!.portStats.transmit).toMatchObject({ reservations: 128, waited: 0, backfilled: 1, merged: 0 });
    write(127 * 50); // a 129th: the closest pair (150 and 160) becomes one busy interval
    expect(c.adapters[0]!.portStats.transmit).toMatchObject({ reservations: 129, waited: 0, merged: 1 });
    expect(c.adapters[1]!.portStats.receive).toMatchObject({ reservations: 129, waited: 0, merged: 1 });
    // At 155 the port was idle, but that gap is now inside the merged interval: the write waits for its end.
    expect(write(155).time).toBeCloseTo(160 + o + G + L + G + L, 9);
    expect(c.adapters[0]!.portStats.transmit).toMatchObject({ reservations: 130, waited: 1, backfilled: 2 });
    // The other gaps are still known exactly: the earliest one is taken at once.
    expect(write(10).time).toBeCloseTo(transferTimes(cost, 'write', 1, 10, false).complete, 9);
    expect(c.adapters[0]!.portStats.transmit).toMatchObject({ reservations: 131, waited: 1, backfilled: 3 });
  });
});
