import { describe, expect, it, vi } from 'vitest';
import { C_WAITERS } from '../src/shared/layout.js';
import { Access, Opcode, Status, flushDoorbells, holdDoorbells, releaseDoorbells, statusName, transferTimes, rnrDeliveryTime } from '@tsmpi/fabric';
import type { Completion } from '@tsmpi/fabric';
import { ALL, PAGE, one, pair, pattern } from './fixture.js';

describe.each(['pinning', 'odp'] as const)('%s: two-sided send/recv', (kind) => {
  function setup(opts: { rnrRetry?: number | 'infinite' } = {}) {
    const p = pair(kind, opts);
    const sbuf = p.a.space.mmap(4 * PAGE);
    const rbuf = p.b.space.mmap(4 * PAGE);
    const smr = p.a.pd.registerMemory(sbuf, 4 * PAGE, Access.LOCAL_WRITE);
    const rmr = p.b.pd.registerMemory(rbuf, 4 * PAGE, Access.LOCAL_WRITE);
    return { ...p, sbuf, rbuf, smr, rmr };
  }

  it('copies into the posted receive, carries immediate data, completes both sides', () => {
    const s = setup();
    s.a.space.write(s.sbuf, pattern(5000, 4));
    s.qb.postRecv({ wrId: 11, sge: { lkey: s.rmr.lkey, addr: s.rbuf, length: 4 * PAGE } });
    s.qa.postSend({ wrId: 22, sge: { lkey: s.smr.lkey, addr: s.sbuf, length: 5000 }, immData: 0xdeadbeef });
    const r = one(s.b.cq);
    expect(r).toMatchObject({ status: Status.SUCCESS, opcode: Opcode.RECV, byteLength: 5000, wrId: 11, qpNum: s.qb.qpNum, immData: 0xdeadbeef });
    expect(one(s.a.cq)).toMatchObject({ status: Status.SUCCESS, opcode: Opcode.SEND, byteLength: 5000, wrId: 22 });
    expect(s.b.space.read(s.rbuf, 5000)).toEqual(pattern(5000, 4));
    expect(s.a.pd.stats).toMatchObject({ sendOps: 1, sendBytes: 5000 });
    expect(s.b.pd.stats).toMatchObject({ recvOps: 1, recvBytes: 5000 });
  });

  it('pollInto reads what poll reads, into the same completion objects each time', () => {
    const s = setup();
    const out: Completion[] = [];
    for (let i = 0; i < 2; i++) s.qb.postRecv({ wrId: 10 + i, sge: { lkey: s.rmr.lkey, addr: s.rbuf + i * PAGE, length: PAGE } });
    s.qa.postSend({ wrId: 20, sge: { lkey: s.smr.lkey, addr: s.sbuf, length: 64 }, immData: 7 });
    expect(s.b.cq.pollInto(out, 16)).toBe(1);
    const first = out[0];
    expect(first).toMatchObject({ status: Status.SUCCESS, opcode: Opcode.RECV, byteLength: 64, wrId: 10, immData: 7 });
    s.qa.postSend({ wrId: 21, sge: { lkey: s.smr.lkey, addr: s.sbuf, length: 32 } });
    expect(s.b.cq.pollInto(out, 16)).toBe(1);
    expect(out[0]).toBe(first);
    expect(out[0]).toMatchObject({ byteLength: 32, wrId: 11, immData: undefined });
    expect(s.b.cq.pollInto(out, 16)).toBe(0);
    expect(s.a.cq.pollInto(out, 1)).toBe(1); // at most `max`
    expect(out[0]).toMatchObject({ opcode: Opcode.SEND, wrId: 20 });
    expect(s.a.cq.poll()).toMatchObject([{ opcode: Opcode.SEND, wrId: 21 }]);
  });

  it('reports a receive smaller than the message as LOCAL_LENGTH_ERROR at the receiver', () => {
    const s = setup();
    s.qb.postRecv({ wrId: 1, sge: { lkey: s.rmr.lkey, addr: s.rbuf, length: 100 } });
    s.qa.postSend({ wrId: 2, sge: { lkey: s.smr.lkey, addr: s.sbuf, length: 101 } });
    expect(statusName(one(s.b.cq).status)).toBe('LOCAL_LENGTH_ERROR');
    expect(statusName(one(s.a.cq).status)).toBe('REMOTE_INVALID_REQUEST');
    expect(s.b.space.read(s.rbuf, 100).every((x) => x === 0)).toBe(true);
    expect(s.b.pd.stats.errors.LOCAL_LENGTH_ERROR).toBe(1);
  });

  it('with a finite rnrRetry, a send that finds no receive completes RETRY_EXCEEDED', () => {
    const s = setup({ rnrRetry: 3 });
    const t0 = s.a.clock.now;
    s.qa.postSend({ wrId: 5, sge: { lkey: s.smr.lkey, addr: s.sbuf, length: 64 } });
    const c = one(s.a.cq);
    expect(statusName(c.status)).toBe('RETRY_EXCEEDED');
    const t = transferTimes(s.cost, 'send', 64, t0, true);
    expect(c.time).toBeCloseTo(t.arrive + 3 * s.cost.rnrTimerUs + s.cost.latencyUs, 9);
    expect(s.b.cq.poll()).toEqual([]);
    expect(s.a.pd.stats).toMatchObject({ rnrExceeded: 1, sendOps: 0 });
  });

  it("with rnrRetry 'infinite', the send waits and the receiver's post delivers it, in order", () => {
    const s = setup();
    s.a.space.write(s.sbuf, pattern(2 * PAGE, 9));
    const t0 = s.a.clock.now;
    s.qa.postSend({ wrId: 1, sge: { lkey: s.smr.lkey, addr: s.sbuf, length: PAGE }, immData: 1 });
    s.qa.postSend({ wrId: 2, sge: { lkey: s.smr.lkey, addr: s.sbuf + PAGE, length: PAGE }, immData: 2 });
    expect(s.a.cq.poll()).toEqual([]);
    expect(s.a.pd.stats.rnrParked).toBe(2);
    s.b.clock.advanceTo(1000); // the receiver posts late in virtual time
    s.qb.postRecv({ wrId: 10, sge: { lkey: s.rmr.lkey, addr: s.rbuf, length: PAGE } });
    s.qb.postRecv({ wrId: 11, sge: { lkey: s.rmr.lkey, addr: s.rbuf + PAGE, length: PAGE } });
    const rs = s.b.cq.poll();
    expect(rs.map((c) => [c.wrId, c.immData, c.status])).toEqual([[10, 1, 0], [11, 2, 0]]);
    // odp: the first delivery takes a network fault on each side (both buffers never touched by the adapter)
    const faults = kind === 'odp' ? 2 * s.cost.odpFaultUs : 0;
    const arrive = transferTimes(s.cost, 'send', PAGE, t0, true).arrive;
    expect(rs[0]!.time).toBeCloseTo(rnrDeliveryTime(s.cost, arrive, 1000) + faults, 9);
    expect(rs[0]!.time).toBeCloseTo(1000 + s.cost.rnrTimerUs + faults, 9);
    expect(s.b.space.read(s.rbuf, 2 * PAGE)).toEqual(pattern(2 * PAGE, 9));
    expect(s.a.cq.poll().map((c) => c.wrId)).toEqual([1, 2]);
    expect(s.a.pd.stats).toMatchObject({ rnrDelivered: 2, sendOps: 2 });
  });

  it('completes a parked send RETRY_EXCEEDED when the receiver closes its domain (never dropped)', () => {
    const s = setup();
    s.qa.postSend({ wrId: 31, sge: { lkey: s.smr.lkey, addr: s.sbuf, length: 8 } });
    expect(s.a.cq.poll()).toEqual([]);
    s.b.pd.close();
    expect(one(s.a.cq)).toMatchObject({ wrId: 31, status: Status.RETRY_EXCEEDED });
    s.qa.postSend({ wrId: 32, sge: { lkey: s.smr.lkey, addr: s.sbuf, length: 8 } });
    // RETRY_EXCEEDED put the sender's QP in the error state (verbs): a later post completes with a flush error
    expect(s.qa.qpState).toBe('error');
    expect(one(s.a.cq)).toMatchObject({ wrId: 32, status: Status.WR_FLUSH_ERROR });
    expect(s.a.pd.stats.errors).toMatchObject({ RETRY_EXCEEDED: 1, WR_FLUSH_ERROR: 1 });
  });

  it('serves several QPs from one shared receive queue', () => {
    const s = setup();
    const srq = s.b.pd.createSharedReceiveQueue({ depth: 8 });
    const qb2 = s.b.pd.createQueuePair({ sendCq: s.b.cq, recvCq: s.b.cq, srq });
    const qa2 = s.a.pd.createQueuePair({ sendCq: s.a.cq, recvCq: s.a.cq });
    qa2.connect(qb2.address);
    qb2.connect(qa2.address);
    expect(() => qb2.postRecv({ wrId: 0, sge: { lkey: s.rmr.lkey, addr: s.rbuf, length: 1 } })).toThrow(/SRQ/);
    srq.postRecv({ wrId: 1, sge: { lkey: s.rmr.lkey, addr: s.rbuf, length: PAGE } });
    srq.postRecv({ wrId: 2, sge: { lkey: s.rmr.lkey, addr: s.rbuf + PAGE, length: PAGE } });
    expect(srq.posted).toBe(2);
    qa2.postSend({ wrId: 7, sge: { lkey: s.smr.lkey, addr: s.sbuf, length: 8 } });
    expect(one(s.b.cq)).toMatchObject({ wrId: 1, qpNum: qb2.qpNum, byteLength: 8 });
    expect(srq.posted).toBe(1);
  });

  it('refuses a receive buffer the receiver cannot write: receiver LOCAL_PROTECTION_ERROR, sender REMOTE_OPERATION_ERROR', () => {
    const s = setup();
    const ro = s.b.pd.registerMemory(s.rbuf, PAGE, 0);
    s.qb.postRecv({ wrId: 1, sge: { lkey: ro.lkey, addr: s.rbuf, length: PAGE } });
    s.qa.postSend({ wrId: 2, sge: { lkey: s.smr.lkey, addr: s.sbuf, length: 8 } });
    expect(statusName(one(s.b.cq).status)).toBe('LOCAL_PROTECTION_ERROR');
    expect(statusName(one(s.a.cq).status)).toBe('REMOTE_OPERATION_ERROR');
  });

  it('throws at post time for what verbs refuses with EINVAL', () => {
    const s = setup();
    const lone = s.a.pd.createQueuePair({ sendCq: s.a.cq, recvCq: s.a.cq });
    expect(() => lone.postSend({ wrId: 1, sge: { lkey: s.smr.lkey, addr: s.sbuf, length: 1 } })).toThrow(/not connected/);
    expect(() => s.qa.postSend({ wrId: -1, sge: { lkey: s.smr.lkey, addr: s.sbuf, length: 1 } })).toThrow(/wrId/);
    expect(() => s.qa.postSend({ wrId: 1, sge: { lkey: s.smr.lkey, addr: s.sbuf, length: 1 }, immData: 2 ** 32 })).toThrow(/immData/);
  });

  it('signals a completion for every error even when unsignaled, and none for unsignaled success', () => {
    const s = setup();
    const dst = s.b.pd.registerMemory(s.rbuf, PAGE, ALL);
    s.qa.rdmaWrite({ wrId: 1, sge: { lkey: s.smr.lkey, addr: s.sbuf, length: 8 }, remoteAddr: s.rbuf, rkey: dst.rkey, signaled: false });
    s.qa.rdmaWrite({ wrId: 2, sge: { lkey: s.smr.lkey, addr: s.sbuf, length: 8 }, remoteAddr: s.rbuf, rkey: 12345, signaled: false });
    expect(s.a.cq.poll().map((c) => [c.wrId, statusName(c.status)])).toEqual([[2, 'REMOTE_ACCESS_ERROR']]);
    expect(s.a.pd.stats.writeOps).toBe(1);
  });
});

describe('completion queue', () => {
  it('overruns loudly instead of dropping completions silently', () => {
    const p = pair('pinning');
    const cq = p.a.pd.createCompletionQueue({ depth: 2 });
    const q = p.a.pd.createQueuePair({ sendCq: cq, recvCq: cq });
    const q2 = p.b.pd.createQueuePair({ sendCq: p.b.cq, recvCq: p.b.cq });
    q.connect(q2.address);
    q2.connect(q.address);
    for (let i = 0; i < 3; i++) q.rdmaWrite({ wrId: i, sge: { lkey: 0, addr: 0, length: 0 }, remoteAddr: 0, rkey: 0 });
    expect(() => cq.poll()).toThrow(/overran its depth of 2/);
  });

  it('wait() returns when the doorbell moves and times out otherwise', () => {
    const p = pair('pinning');
    const seen = p.a.cq.doorbell;
    expect(p.a.cq.wait(seen, 1)).toBe(false);
    p.qa.rdmaWrite({ wrId: 1, sge: { lkey: 0, addr: 0, length: 0 }, remoteAddr: 0, rkey: 0 });
    expect(p.a.cq.wait(seen, 1000)).toBe(true);
    expect(p.a.cq.pending).toBe(1);
  });
});

describe('held wake-ups', () => {
  it('a push between holdDoorbells and releaseDoorbells moves the doorbell at once (a spinning owner sees it); calls nest', () => {
    const p = pair('pinning');
    const seen = p.a.cq.doorbell;
    holdDoorbells();
    holdDoorbells();
    p.qa.rdmaWrite({ wrId: 1, sge: { lkey: 0, addr: 0, length: 0 }, remoteAddr: 0, rkey: 0 });
    expect(p.a.cq.doorbell).toBe(seen + 1);
    expect(p.a.cq.wait(seen, 1000)).toBe(true);
    flushDoorbells(); // what is held so far is notified; the hold goes on
    p.qa.rdmaWrite({ wrId: 2, sge: { lkey: 0, addr: 0, length: 0 }, remoteAddr: 0, rkey: 0 });
    expect(p.a.cq.doorbell).toBe(seen + 2);
    releaseDoorbells();
    releaseDoorbells();
    expect(p.a.cq.poll()).toHaveLength(2);
  });

  it('releaseDoorbells(false) keeps what was held for the next flushDoorbells (one notify per queue), and later pushes notify at once', () => {
    const p = pair('pinning');
    // the owner announced itself as asleep (what cq.wait() does before it sleeps), so a push must notify
    const { state, row } = p.a.cq as unknown as { state: { cqs: Int32Array }; row: number };
    Atomics.add(state.cqs, row + C_WAITERS, 1);
    const notify = vi.spyOn(Atomics, 'notify');
    try {
      holdDoorbells();
      p.qa.rdmaWrite({ wrId: 1, sge: { lkey: 0, addr: 0, length: 0 }, remoteAddr: 0, rkey: 0 });
      p.qa.rdmaWrite({ wrId: 2, sge: { lkey: 0, addr: 0, length: 0 }, remoteAddr: 0, rkey: 0 });
      releaseDoorbells(false);
      expect(notify).not.toHaveBeenCalled();
      p.qa.rdmaWrite({ wrId: 3, sge: { lkey: 0, addr: 0, length: 0 }, remoteAddr: 0, rkey: 0 });
      expect(notify).toHaveBeenCalledTimes(1); // no hold any more: the third push wakes at once
      flushDoorbells();
      expect(notify).toHaveBeenCalledTimes(2); // the two held pushes: one wake-up for their queue
      flushDoorbells();
      expect(notify).toHaveBeenCalledTimes(2);
    } finally {
      notify.mockRestore();
      Atomics.sub(state.cqs, row + C_WAITERS, 1);
    }
    expect(p.a.cq.poll()).toHaveLength(3);
  });
});
