import { describe, expect, it } from 'vitest';
import { Access, Opcode, Status, statusName } from '@tsmpi/fabric';
import { ALL, PAGE, one, pair, pattern, rank, reconnect } from './fixture.js';

/*
 * Every way a key can be wrong ends in an error completion and moves no byte. As in verbs, that
 * completion is fatal: the QP enters the error state and flushes every later post until it is reset
 * and connected again (reconnect), so each bad operation below runs on a pair connected afresh.
 *
 *   a (initiator)  ──qa══qb──  b (responder: owns the region behind the rkey)
 */
describe.each(['pinning', 'odp'] as const)('%s: key checks', (kind) => {
  function setup() {
    const p = pair(kind);
    const { a, b } = p;
    const src = a.space.mmap(2 * PAGE);
    a.space.write(src, pattern(2 * PAGE, 1));
    const dst = b.space.mmap(2 * PAGE);
    b.space.fill(dst, 2 * PAGE, 0xee);
    const lmr = a.pd.registerMemory(src, 2 * PAGE, Access.LOCAL_WRITE);
    const rmr = b.pd.registerMemory(dst, 2 * PAGE, ALL);
    const untouched = () => b.space.read(dst, 2 * PAGE).every((x) => x === 0xee);
    const write = (rkey: number, remoteAddr = dst, length = PAGE, lkey = lmr.lkey) =>
      p.qa.rdmaWrite({ wrId: 7, sge: { lkey, addr: src, length }, remoteAddr, rkey });
    /** The status of each operation, each on the pair connected afresh (an error leaves the QP in ERR). */
    const statuses = (...ops: (() => void)[]) => ops.map((op) => {
      reconnect(p);
      op();
      return statusName(one(p.a.cq).status);
    });
    return { ...p, src, dst, lmr, rmr, untouched, write, statuses };
  }

  it('writes through a good rkey (the control case)', () => {
    const s = setup();
    s.write(s.rmr.rkey);
    const c = one(s.a.cq);
    expect(statusName(c.status)).toBe('SUCCESS');
    expect(c).toMatchObject({ opcode: Opcode.RDMA_WRITE, byteLength: PAGE, wrId: 7, qpNum: s.qa.qpNum });
    expect(s.b.space.read(s.dst, PAGE)).toEqual(pattern(2 * PAGE, 1).subarray(0, PAGE));
    expect(s.a.pd.stats.writeBytes).toBe(PAGE);
  });

  it('refuses a made-up rkey', () => {
    const s = setup();
    s.write(s.rmr.rkey ^ 1);
    expect(statusName(one(s.a.cq).status)).toBe('REMOTE_ACCESS_ERROR');
    expect(s.untouched()).toBe(true);
    expect(s.a.pd.stats.errors.REMOTE_ACCESS_ERROR).toBe(1);
    expect(s.a.pd.stats.writeOps).toBe(0);
  });

  it('a remote access error is fatal: the QP enters ERR, later posts flush, the peer\'s posts give up; reset and connect revive it', () => {
    const s = setup();
    s.write(s.rmr.rkey ^ 1);
    expect(statusName(one(s.a.cq).status)).toBe('REMOTE_ACCESS_ERROR');
    expect(s.qa.qpState).toBe('error');
    expect(s.qa.error).toMatchObject({ status: 'REMOTE_ACCESS_ERROR' });
    s.write(s.rmr.rkey); // a good key now: still flushed
    expect(one(s.a.cq)).toMatchObject({ status: Status.WR_FLUSH_ERROR, wrId: 7, byteLength: 0 });
    expect(s.untouched()).toBe(true);
    const back = s.b.space.mmap(PAGE);
    const bmr = s.b.pd.registerMemory(back, PAGE, ALL);
    s.qb.postSend({ wrId: 70, sge: { lkey: bmr.lkey, addr: back, length: 8 } });
    const gaveUp = one(s.b.cq);
    expect(statusName(gaveUp.status)).toBe('RETRY_EXCEEDED');
    expect(s.qb.error?.cause).toMatch(/queue pair \d+ of node \d+ is in the error state \(the peer refused a remote access/);
    reconnect(s);
    s.write(s.rmr.rkey);
    expect(statusName(one(s.a.cq).status)).toBe('SUCCESS');
  });

  it('refuses a deregistered region, and a new registration in the same slot does not revive the old key', () => {
    const s = setup();
    s.b.pd.deregister(s.rmr);
    expect(s.statuses(() => s.write(s.rmr.rkey))).toEqual(['REMOTE_ACCESS_ERROR']);
    const again = s.b.pd.registerMemory(s.dst, 2 * PAGE, ALL);
    expect(again.rkey).not.toBe(s.rmr.rkey);
    expect(s.statuses(() => s.write(s.rmr.rkey))).toEqual(['REMOTE_ACCESS_ERROR']);
    expect(s.untouched()).toBe(true);
    expect(s.statuses(() => s.write(again.rkey))).toEqual(['SUCCESS']);
  });

  it('refuses an access past the end of the region and before its start', () => {
    const s = setup();
    expect(s.statuses(() => s.write(s.rmr.rkey, s.dst + PAGE + 1, PAGE), () => s.write(s.rmr.rkey, s.dst - 1, 2)))
      .toEqual(['REMOTE_ACCESS_ERROR', 'REMOTE_ACCESS_ERROR']);
    expect(s.untouched()).toBe(true);
  });

  it('refuses a write into a region registered without REMOTE_WRITE and a read without REMOTE_READ', () => {
    const s = setup();
    const ro = s.b.pd.registerMemory(s.dst, PAGE, Access.REMOTE_READ);
    const wo = s.b.pd.registerMemory(s.dst, PAGE, Access.LOCAL_WRITE | Access.REMOTE_WRITE);
    expect(s.statuses(() => s.write(ro.rkey),
      () => s.qa.rdmaRead({ wrId: 8, sge: { lkey: s.lmr.lkey, addr: s.src, length: 16 }, remoteAddr: s.dst, rkey: wo.rkey })))
      .toEqual(['REMOTE_ACCESS_ERROR', 'REMOTE_ACCESS_ERROR']);
    expect(s.untouched()).toBe(true);
    expect(s.a.space.read(s.src, PAGE)).toEqual(pattern(2 * PAGE, 1).subarray(0, PAGE));
  });

  it('refuses an rkey of a domain other than the connected peer', () => {
    const s = setup();
    const c = rank(s.adapter, s.memory);
    const other = c.space.mmap(PAGE);
    const cmr = c.pd.registerMemory(other, PAGE, ALL);
    s.write(cmr.rkey, other);
    expect(statusName(one(s.a.cq).status)).toBe('REMOTE_ACCESS_ERROR');
    expect(c.space.read(other, PAGE).every((x) => x === 0)).toBe(true);
  });

  it('refuses a bad lkey, and a local key of another domain, as a local protection error', () => {
    const s = setup();
    expect(s.statuses(() => s.write(s.rmr.rkey, s.dst, PAGE, s.lmr.lkey + 1), () => s.write(s.rmr.rkey, s.dst, PAGE, s.rmr.lkey)))
      .toEqual(['LOCAL_PROTECTION_ERROR', 'LOCAL_PROTECTION_ERROR']);
    expect(s.untouched()).toBe(true);
    expect(s.a.pd.stats.errors.LOCAL_PROTECTION_ERROR).toBe(2);
  });

  it('refuses an RDMA read into a local region without LOCAL_WRITE', () => {
    const s = setup();
    const ro = s.a.pd.registerMemory(s.src, PAGE, 0);
    s.qa.rdmaRead({ wrId: 9, sge: { lkey: ro.lkey, addr: s.src, length: PAGE }, remoteAddr: s.dst, rkey: s.rmr.rkey });
    expect(one(s.a.cq).status).toBe(Status.LOCAL_PROTECTION_ERROR);
    expect(s.a.space.read(s.src, PAGE)).toEqual(pattern(2 * PAGE, 1).subarray(0, PAGE));
  });

  it('refuses bad registration arguments with typed errors', () => {
    const s = setup();
    expect(() => s.a.pd.registerMemory(s.src, 0, ALL)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => s.a.pd.registerMemory(s.src, PAGE, Access.REMOTE_WRITE)).toThrow(/requires LOCAL_WRITE/);
    expect(() => s.a.pd.registerMemory(s.src, PAGE, 64)).toThrow(/unknown bits/);
    expect(() => s.a.pd.deregister(s.rmr)).toThrow(/not a live registration of domain/);
    s.a.pd.deregister(s.lmr);
    expect(() => s.a.pd.deregister(s.lmr)).toThrow(/not a live registration/);
  });

  it('keys carry random bits: 64 registrations of one range give 64 distinct rkeys', () => {
    const s = setup();
    const keys = new Set<number>();
    for (let i = 0; i < 64; i++) {
      const mr = s.b.pd.registerMemory(s.dst, PAGE, ALL);
      keys.add(mr.rkey);
      keys.add(mr.lkey);
      s.b.pd.deregister(mr);
    }
    expect(keys.size).toBe(128);
  });
});
