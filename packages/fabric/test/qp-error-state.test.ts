import { describe, expect, it } from 'vitest';
import { Access, Opcode, Status, transferTimes } from '@tsmpi/fabric';
import { ALL, PAGE, one, pair, pattern } from './fixture.js';

/** Verbs' error state (issue 15 item 11): how a QP gets there, what it flushes, what a post to it does. */
describe.each(['pinning', 'odp'] as const)('%s: queue pair error state', (kind) => {
  function setup(opts: { cost?: { overheadUs?: number } } = {}) {
    const p = pair(kind, opts);
    const sbuf = p.a.space.mmap(4 * PAGE);
    const rbuf = p.b.space.mmap(4 * PAGE);
    const smr = p.a.pd.registerMemory(sbuf, 4 * PAGE, ALL);
    const rmr = p.b.pd.registerMemory(rbuf, 4 * PAGE, ALL);
    p.a.space.write(sbuf, pattern(4 * PAGE, 3));
    return { ...p, sbuf, rbuf, smr, rmr };
  }

  it('goes created → connected → error → (reset) created → connected; connect refuses a QP in error', () => {
    const s = setup();
    expect(s.qa.qpState).toBe('connected');
    s.qa.toError('test: modify_qp(ERR)');
    expect(s.qa.qpState).toBe('error');
    expect(s.qa.connected).toBe(false);
    expect(s.qa.error).toEqual({ status: 'WR_FLUSH_ERROR', cause: 'test: modify_qp(ERR)' });
    expect(() => s.qa.connect(s.qb.address)).toThrow(/queue pair \d+ is in the error state; reset\(\) it before connect\(\)/);
    s.qa.reset();
    expect(s.qa.qpState).toBe('created');
    expect(s.qa.error).toBeUndefined();
    s.qa.connect(s.qb.address);
    expect(s.qa.qpState).toBe('connected');
    // usable again: a send lands
    s.qb.postRecv({ wrId: 1, sge: { lkey: s.rmr.lkey, addr: s.rbuf, length: 64 } });
    s.qa.postSend({ wrId: 2, sge: { lkey: s.smr.lkey, addr: s.sbuf, length: 64 } });
    expect(one(s.b.cq)).toMatchObject({ wrId: 1, status: Status.SUCCESS, byteLength: 64 });
    expect(s.b.space.read(s.rbuf, 64)).toEqual(pattern(4 * PAGE, 3).subarray(0, 64));
  });

  it('flushes its outstanding work: receives on its own queue and its sends parked at the peer', () => {
    const s = setup();
    // qa's two sends park at qb (no receive there yet); qa's own queue holds two receives
    s.qa.postSend({ wrId: 10, sge: { lkey: s.smr.lkey, addr: s.sbuf, length: 64 } });
    s.qa.postSend({ wrId: 11, sge: { lkey: s.smr.lkey, addr: s.sbuf, length: 64 } });
    s.qa.postRecv({ wrId: 20, sge: { lkey: s.smr.lkey, addr: s.sbuf + PAGE, length: 64 } });
    s.qa.postRecv({ wrId: 21, sge: { lkey: s.smr.lkey, addr: s.sbuf + PAGE, length: 64 } });
    expect(s.a.cq.poll()).toEqual([]);
    s.qa.toError('test');
    const flushed = s.a.cq.poll(16).map((c) => [c.wrId, c.opcode, c.status, c.byteLength]);
    expect(flushed).toEqual([
      [20, Opcode.RECV, Status.WR_FLUSH_ERROR, 0], [21, Opcode.RECV, Status.WR_FLUSH_ERROR, 0],
      [10, Opcode.SEND, Status.WR_FLUSH_ERROR, 0], [11, Opcode.SEND, Status.WR_FLUSH_ERROR, 0],
    ]);
    // nothing of qa's is left at qb: a receive posted there now stays posted, no byte arrives
    s.qb.postRecv({ wrId: 30, sge: { lkey: s.rmr.lkey, addr: s.rbuf, length: 64 } });
    expect(s.b.cq.poll()).toEqual([]);
    expect(s.b.space.read(s.rbuf, 64).every((x) => x === 0)).toBe(true);
    expect(s.a.pd.stats.errors.WR_FLUSH_ERROR).toBe(4);
  });

  it('a post to a QP in error completes at once with a flush error and moves nothing', () => {
    const s = setup();
    s.qa.toError('test');
    s.qb.postRecv({ wrId: 1, sge: { lkey: s.rmr.lkey, addr: s.rbuf, length: 64 } });
    s.qa.postSend({ wrId: 2, sge: { lkey: s.smr.lkey, addr: s.sbuf, length: 64 }, signaled: false });
    s.qa.rdmaWrite({ wrId: 3, sge: { lkey: s.smr.lkey, addr: s.sbuf, length: 64 }, remoteAddr: s.rbuf + PAGE, rkey: s.rmr.rkey });
    s.qa.rdmaRead({ wrId: 4, sge: { lkey: s.smr.lkey, addr: s.sbuf, length: 64 }, remoteAddr: s.rbuf, rkey: s.rmr.rkey });
    s.qa.atomicFetchAdd({ wrId: 5, sge: { lkey: s.smr.lkey, addr: s.sbuf, length: 8 }, remoteAddr: s.rbuf, rkey: s.rmr.rkey, compareAdd: 1n });
    s.qa.postRecv({ wrId: 6, sge: { lkey: s.smr.lkey, addr: s.sbuf, length: 64 } });
    expect(s.a.cq.poll(16).map((c) => [c.wrId, c.status])).toEqual([2, 3, 4, 5, 6].map((w) => [w, Status.WR_FLUSH_ERROR]));
    expect(s.b.cq.poll()).toEqual([]);
    expect(s.b.space.read(s.rbuf, 2 * PAGE).every((x) => x === 0)).toBe(true);
    expect(s.a.space.read(s.sbuf, 64)).toEqual(pattern(4 * PAGE, 3).subarray(0, 64));
  });

  it("the peer's operations towards a QP in error complete RETRY_EXCEEDED and put the peer's QP in error too", () => {
    const s = setup();
    // qa's send parked at qb: when qb fails, qa's transport gives up on it
    s.qa.postSend({ wrId: 7, sge: { lkey: s.smr.lkey, addr: s.sbuf, length: 64 } });
    s.qb.toError('test: the receiver failed');
    expect(one(s.a.cq)).toMatchObject({ wrId: 7, status: Status.RETRY_EXCEEDED });
    expect(s.qa.qpState).toBe('error');
    // a fresh pair: a post towards a peer already in error
    const t = setup();
    t.qb.toError('test');
    t.qa.rdmaWrite({ wrId: 8, sge: { lkey: t.smr.lkey, addr: t.sbuf, length: 64 }, remoteAddr: t.rbuf, rkey: t.rmr.rkey });
    expect(one(t.a.cq)).toMatchObject({ wrId: 8, status: Status.RETRY_EXCEEDED });
    expect(t.qa.error).toEqual({ status: 'RETRY_EXCEEDED', cause: 'queue pair ' + t.qb.qpNum + ' of node 0 is in the error state' });
    expect(t.b.space.read(t.rbuf, 64).every((x) => x === 0)).toBe(true);
  });

  it('a RETRY_EXCEEDED completion (RNR retries exhausted) puts the QP in error; what follows is flushed', () => {
    const p = pair(kind, { rnrRetry: 2 });
    const buf = p.a.space.mmap(PAGE);
    const mr = p.a.pd.registerMemory(buf, PAGE, Access.LOCAL_WRITE);
    p.qa.postSend({ wrId: 1, sge: { lkey: mr.lkey, addr: buf, length: 8 } });
    p.qa.postSend({ wrId: 2, sge: { lkey: mr.lkey, addr: buf, length: 8 } });
    expect(p.a.cq.poll(4).map((c) => [c.wrId, c.status])).toEqual([[1, Status.RETRY_EXCEEDED], [2, Status.WR_FLUSH_ERROR]]);
    expect(p.qa.error).toEqual({ status: 'RETRY_EXCEEDED', cause: 'the receiver had no receive posted after 2 RNR retries' });
  });

  it('link down for a window shorter than the retries: the operation leaves at the first retransmission after it', () => {
    const s = setup();
    const timeout = 4.096 * 2 ** 14;
    s.qa.linkDown(0, 2.5 * timeout); // down now; the retransmissions at +1 and +2 timeouts are lost, +3 gets through
    const t0 = s.a.clock.now;
    s.qa.rdmaWrite({ wrId: 1, sge: { lkey: s.smr.lkey, addr: s.sbuf, length: 4096 }, remoteAddr: s.rbuf, rkey: s.rmr.rkey });
    const c = one(s.a.cq);
    expect(c).toMatchObject({ wrId: 1, status: Status.SUCCESS, byteLength: 4096 });
    // the same write on a twin whose link stays up completes exactly three timeouts earlier
    const twin = setup();
    expect(twin.a.clock.now).toBe(t0);
    twin.qa.rdmaWrite({ wrId: 1, sge: { lkey: twin.smr.lkey, addr: twin.sbuf, length: 4096 }, remoteAddr: twin.rbuf, rkey: twin.rmr.rkey });
    expect(c.time - one(twin.a.cq).time).toBeCloseTo(3 * timeout, 6);
    if (kind === 'pinning') expect(c.time).toBeCloseTo(transferTimes(s.cost, 'write', 4096, t0 + 3 * timeout, true).complete, 6);
    expect(s.b.space.read(s.rbuf, 4096)).toEqual(pattern(4 * PAGE, 3).subarray(0, 4096));
    expect(s.qa.qpState).toBe('connected');
  });

  it('link down longer than the retries: RETRY_EXCEEDED after the last one, the QP in error, nothing delivered', () => {
    const s = setup();
    s.qa.linkDown(10, 1e9);
    s.a.clock.advanceTo(100);
    s.qb.postRecv({ wrId: 1, sge: { lkey: s.rmr.lkey, addr: s.rbuf, length: 64 } });
    s.qa.postSend({ wrId: 2, sge: { lkey: s.smr.lkey, addr: s.sbuf, length: 64 } });
    const c = one(s.a.cq);
    expect(c).toMatchObject({ wrId: 2, status: Status.RETRY_EXCEEDED });
    expect(c.time).toBeCloseTo(100 + 8 * 4.096 * 2 ** 14, 6);
    expect(s.qa.error).toEqual({ status: 'RETRY_EXCEEDED', cause: 'the link was down for every retransmission from 100.0 µs on' });
    expect(s.b.cq.poll()).toEqual([]);
    expect(() => s.qa.linkDown(5, 5)).toThrow(/0 <= start < end/);
  });
});
