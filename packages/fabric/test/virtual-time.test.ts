import { AddressSpace, PhysicalMemory } from '@tsmpi/vm';
import { describe, expect, it } from 'vitest';
import {
  Access, InProcessWire, VirtualClock, Adapter, costModel, createAdapter, deregistrationCost, registrationCost, transferTimes,
  type Completion,
} from '@tsmpi/fabric';
import { ALL, PAGE, one, pair } from './fixture.js';

/**
 * The port rule with one free-at time per side (start = max(ready, txFreeAt), the receive side
 * taking n·G from max(first byte, rxFreeAt)): what the adapter's calendars must give when posts
 * come in virtual-time order. One port here: the pair's two ranks share a node (loopback).
 */
class FreeAtPort {
  tx = 0;
  rx = 0;
  transmit(ready: number, duration: number): number {
    const start = Math.max(ready, this.tx);
    this.tx = start + duration;
    return start;
  }
  receive(ready: number, duration: number): number {
    const start = Math.max(ready, this.rx);
    this.rx = start + duration;
    return start;
  }
}

describe('virtual time follows the cost model', () => {
  it('charges registration and deregistration to the domain clock: base + pages × per-page', () => {
    for (const kind of ['pinning', 'odp'] as const) {
      const p = pair(kind);
      const buf = p.a.space.mmap(16 * PAGE);
      const mr = p.a.pd.registerMemory(buf + 100, 15 * PAGE, ALL); // spans 16 pages
      expect(mr.pages).toBe(16);
      expect(p.a.clock.now).toBeCloseTo(registrationCost(p.cost, kind, 16), 12);
      p.a.pd.deregister(mr);
      expect(p.a.clock.now).toBeCloseTo(registrationCost(p.cost, kind, 16) + deregistrationCost(p.cost, kind, 16), 12);
    }
    expect(registrationCost(costModel(), 'pinning', 16)).toBe(20);
  });

  it('times an RDMA write, an RDMA read and a send/recv by the LogGP formulas', () => {
    const p = pair('pinning');
    const n = 64 * 1024;
    const a = p.a.space.mmap(n);
    const b = p.b.space.mmap(n);
    const amr = p.a.pd.registerMemory(a, n, ALL);
    const bmr = p.b.pd.registerMemory(b, n, ALL);
    const port = new FreeAtPort();
    let t0 = p.a.clock.now;
    p.qa.rdmaWrite({ wrId: 1, sge: { lkey: amr.lkey, addr: a, length: n }, remoteAddr: b, rkey: bmr.rkey });
    const w = transferTimes(p.cost, 'write', n, t0, true, 0, port);
    expect(w.complete).toBeCloseTo(transferTimes(p.cost, 'write', n, t0, true).complete, 12); // an idle port: o + 2L + n·G
    expect(p.a.clock.now).toBeCloseTo(t0 + p.cost.overheadUs, 12);
    const wc = one(p.a.cq);
    expect(wc.time).toBeCloseTo(w.complete, 12);
    // The read is posted o after the write, but its data needs the port's transmit side the write still holds.
    t0 = p.a.clock.now;
    p.qa.rdmaRead({ wrId: 2, sge: { lkey: amr.lkey, addr: a, length: n }, remoteAddr: b, rkey: bmr.rkey });
    const r = transferTimes(p.cost, 'read', n, t0, true, 0, port);
    expect(r.start).toBeCloseTo(w.start + n / 23000, 9);
    expect(one(p.a.cq).time).toBeCloseTo(r.complete, 9);
    expect(r.complete).toBeGreaterThan(t0 + p.cost.overheadUs + 2 * p.cost.latencyUs + n / 23000 + 1); // alone it would be this
    p.qb.postRecv({ wrId: 3, sge: { lkey: bmr.lkey, addr: b, length: n } }); // posted at b's time 0 + registration
    t0 = p.a.clock.now;
    p.qa.postSend({ wrId: 4, sge: { lkey: amr.lkey, addr: a, length: 1000 } });
    const s = transferTimes(p.cost, 'send', 1000, t0, true, 0, port);
    expect(one(p.b.cq).time).toBeCloseTo(s.arrive, 12);
    expect(one(p.a.cq).time).toBeCloseTo(s.complete, 12);
    expect(p.adapter.portStats).toMatchObject({
      transmit: { reservations: 3, waited: 2, backfilled: 0, merged: 0, freeAt: s.start + 1000 / 23000 },
      receive: { reservations: 3, backfilled: 0, merged: 0, freeAt: s.arrive },
    });
  });

  it('adds one network page fault per faulting chunk of an ODP request', () => {
    const p = pair('odp', { cost: { odpFaultChunkBytes: 2 * PAGE } });
    const n = 8 * PAGE;
    const a = p.a.space.mmap(n);
    const b = p.b.space.mmap(n);
    const amr = p.a.pd.registerMemory(a, n, ALL);
    const bmr = p.b.pd.registerMemory(b, n, ALL);
    p.a.pd.advise(amr, a, n); // the local side is resident: only the remote side faults
    const port = new FreeAtPort();
    const t0 = p.a.clock.now;
    p.qa.rdmaWrite({ wrId: 1, sge: { lkey: amr.lkey, addr: a, length: n }, remoteAddr: b, rkey: bmr.rkey });
    const c = one(p.a.cq);
    const first = transferTimes(p.cost, 'write', n, t0, true, 4 * p.cost.odpFaultUs, port);
    expect(first.complete).toBeCloseTo(transferTimes(p.cost, 'write', n, t0, true, 4 * p.cost.odpFaultUs).complete, 12);
    expect(c.time).toBeCloseTo(first.complete, 9);
    expect(p.b.pd.stats).toMatchObject({ odpFaults: 1, odpFaultPages: 8 });
    // No fault now. The port is not held during the first write's faults, only for its n·G.
    const t1 = p.a.clock.now;
    p.qa.rdmaWrite({ wrId: 2, sge: { lkey: amr.lkey, addr: a, length: n }, remoteAddr: b, rkey: bmr.rkey });
    const second = transferTimes(p.cost, 'write', n, t1, true, 0, port);
    expect(second.start).toBeCloseTo(first.start + n / 23000, 9);
    expect(one(p.a.cq).time).toBeCloseTo(second.complete, 9);
    expect(second.complete).toBeLessThan(first.complete);
  });

  it('is deterministic: the same operations give the same times', () => {
    const run = (): number[] => {
      const p = pair('odp');
      const a = p.a.space.mmap(8 * PAGE);
      const b = p.b.space.mmap(8 * PAGE);
      const amr = p.a.pd.registerMemory(a, 8 * PAGE, ALL);
      const bmr = p.b.pd.registerMemory(b, 8 * PAGE, ALL);
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        p.qb.postRecv({ wrId: i, sge: { lkey: bmr.lkey, addr: b, length: 8 * PAGE } });
        p.qa.postSend({ wrId: i, sge: { lkey: amr.lkey, addr: a, length: (i + 1) * 1000 } });
        p.qa.rdmaRead({ wrId: 10 + i, sge: { lkey: amr.lkey, addr: a, length: 4096 }, remoteAddr: b, rkey: bmr.rkey });
        for (const c of [...p.a.cq.poll(), ...p.b.cq.poll()] as Completion[]) times.push(c.time);
      }
      return [...times, p.a.clock.now, p.b.clock.now];
    };
    expect(run()).toEqual(run());
  });
});

describe('two nodes over the in-process wire', () => {
  it('moves bytes between two memories and prices the wire, not the loopback', () => {
    const cost = costModel('hdr', { loopbackLatencyUs: 0.1 });
    const m0 = new PhysicalMemory({ bytes: 8 * 1024 * 1024 });
    const m1 = new PhysicalMemory({ bytes: 8 * 1024 * 1024 });
    const n0 = createAdapter('pinning', { memory: m0, cost, nodeId: 0 });
    const n1 = createAdapter('pinning', { memory: m1, cost, nodeId: 1 });
    const wire = new InProcessWire([n0, Adapter.attach(n1.handle, m1)]);
    const s0 = new AddressSpace(m0);
    const s1 = new AddressSpace(m1);
    const pd0 = n0.openDomain(s0, new VirtualClock(), { wire });
    const pd1 = n1.openDomain(s1, new VirtualClock(), { wire });
    const cq0 = pd0.createCompletionQueue();
    const cq1 = pd1.createCompletionQueue();
    const q0 = pd0.createQueuePair({ sendCq: cq0, recvCq: cq0 });
    const q1 = pd1.createQueuePair({ sendCq: cq1, recvCq: cq1 });
    q0.connect(q1.address);
    q1.connect(q0.address);
    const a = s0.mmap(PAGE);
    const b = s1.mmap(PAGE);
    s1.write(b, new TextEncoder().encode('over the wire'));
    const amr = pd0.registerMemory(a, PAGE, ALL);
    const bmr = pd1.registerMemory(b, PAGE, Access.REMOTE_READ);
    const t0 = pd0.clock.now;
    q0.rdmaRead({ wrId: 1, sge: { lkey: amr.lkey, addr: a, length: 13 }, remoteAddr: b, rkey: bmr.rkey });
    const c = one(cq0);
    expect(c.status).toBe(0);
    expect(new TextDecoder().decode(s0.read(a, 13))).toBe('over the wire');
    expect(c.time).toBeCloseTo(t0 + 0.3 + 2 * 0.6 + 13 / 23000, 9);
    // without the wire, the other node cannot be reached
    const lonely = n0.openDomain(new AddressSpace(m0), new VirtualClock());
    const lcq = lonely.createCompletionQueue();
    const lq = lonely.createQueuePair({ sendCq: lcq, recvCq: lcq });
    expect(() => lq.connect(q1.address)).toThrow(/no wire/);
  });
});
