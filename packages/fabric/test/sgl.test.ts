/**
 * Scatter/gather lists on RDMA work requests (verbs sg_list): a read scatters one remote range into
 * local pieces in order, a write gathers them; pieces may come from different regions; more than
 * the adapter's maxSge is refused as ibv_post_send refuses it; each element past the first costs
 * cost.sgeUs of the transfer; a bad key on any element fails the whole request.
 */
import { describe, expect, it } from 'vitest';
import { Access, InvalidArgument, Status } from '@tsmpi/fabric';
import { ALL, PAGE, one, pair, pattern } from './fixture.js';

function setup() {
  const s = pair('pinning');
  const remote = s.b.space.mmap(2 * PAGE);
  s.b.space.write(remote, pattern(2 * PAGE, 3));
  const rmr = s.b.pd.registerMemory(remote, 2 * PAGE, ALL);
  const local = s.a.space.mmap(4 * PAGE);
  s.a.space.fill(local, 4 * PAGE, 0xee);
  // two regions on the local side: the first two pages and the last two
  const m1 = s.a.pd.registerMemory(local, 2 * PAGE, Access.LOCAL_WRITE);
  const m2 = s.a.pd.registerMemory(local + 2 * PAGE, 2 * PAGE, Access.LOCAL_WRITE);
  return { ...s, remote, rmr, local, m1, m2 };
}

describe('RDMA scatter/gather lists', () => {
  it('a read scatters the remote range into the pieces in list order, across two regions, and leaves the gaps', () => {
    const s = setup();
    const sgl = [
      { lkey: s.m2.lkey, addr: s.local + 3 * PAGE, length: 100 },
      { lkey: s.m1.lkey, addr: s.local + 10, length: 50 },
      { lkey: s.m1.lkey, addr: s.local + PAGE, length: 1000 },
    ];
    s.qa.rdmaRead({ wrId: 1, sge: sgl[0]!, sgl, remoteAddr: s.remote + 7, rkey: s.rmr.rkey });
    const c = one(s.a.cq);
    expect(c.status).toBe(Status.SUCCESS);
    expect(c.byteLength).toBe(1150);
    const src = pattern(2 * PAGE, 3).subarray(7);
    const mine = s.a.space.read(s.local, 4 * PAGE);
    expect(mine.subarray(3 * PAGE, 3 * PAGE + 100)).toEqual(src.subarray(0, 100));
    expect(mine.subarray(10, 60)).toEqual(src.subarray(100, 150));
    expect(mine.subarray(PAGE, PAGE + 1000)).toEqual(src.subarray(150, 1150));
    const touched = new Set<number>();
    for (const e of sgl) for (let i = 0; i < e.length; i++) touched.add(e.addr - s.local + i);
    const gaps = [...mine.keys()].filter((i) => !touched.has(i));
    expect(gaps.every((i) => mine[i] === 0xee)).toBe(true);
  });

  it('a write gathers the pieces into one remote range', () => {
    const s = setup();
    s.a.space.write(s.local, pattern(4 * PAGE, 9));
    const sgl = [
      { lkey: s.m1.lkey, addr: s.local + 5, length: 20 },
      { lkey: s.m2.lkey, addr: s.local + 2 * PAGE, length: 30 },
    ];
    s.qa.rdmaWrite({ wrId: 2, sge: sgl[0]!, sgl, remoteAddr: s.remote + 64, rkey: s.rmr.rkey });
    expect(one(s.a.cq).status).toBe(Status.SUCCESS);
    const src = pattern(4 * PAGE, 9);
    expect(s.b.space.read(s.remote + 64, 50)).toEqual(new Uint8Array([...src.subarray(5, 25), ...src.subarray(2 * PAGE, 2 * PAGE + 30)]));
    expect(s.b.space.read(s.remote + 114, 10)).toEqual(pattern(2 * PAGE, 3).subarray(114, 124));
  });

  it('refuses more elements than maxSge, and an empty list, before anything moves', () => {
    const s = setup();
    const max = s.adapter.state.limits.maxSge;
    expect(max).toBe(30);
    const many = Array.from({ length: max + 1 }, (_, i) => ({ lkey: s.m1.lkey, addr: s.local + i * 8, length: 8 }));
    expect(() => s.qa.rdmaRead({ wrId: 3, sge: many[0]!, sgl: many, remoteAddr: s.remote, rkey: s.rmr.rkey })).toThrow(InvalidArgument);
    expect(() => s.qa.rdmaRead({ wrId: 3, sge: many[0]!, sgl: many, remoteAddr: s.remote, rkey: s.rmr.rkey })).toThrow(/maxSge \(30\)/);
    expect(() => s.qa.rdmaRead({ wrId: 3, sge: many[0]!, sgl: [], remoteAddr: s.remote, rkey: s.rmr.rkey })).toThrow(/non-empty/);
    s.qa.rdmaRead({ wrId: 4, sge: many[0]!, sgl: many.slice(0, max), remoteAddr: s.remote, rkey: s.rmr.rkey });
    expect(one(s.a.cq).status).toBe(Status.SUCCESS);
    expect(s.a.cq.poll(4)).toEqual([]);
  });

  it('charges cost.sgeUs for each element past the first', () => {
    const times = [1, 2, 8].map((k) => {
      const s = setup();
      const sgl = Array.from({ length: k }, (_, i) => ({ lkey: s.m1.lkey, addr: s.local + i * 64, length: 64 }));
      s.qa.rdmaRead({ wrId: 5, sge: sgl[0]!, sgl, remoteAddr: s.remote, rkey: s.rmr.rkey });
      return { k, time: one(s.a.cq).time, sgeUs: s.cost.sgeUs };
    });
    const oneElement = times[0]!;
    // the same bytes in one element: only the per-element cost differs
    const s = setup();
    s.qa.rdmaRead({ wrId: 6, sge: { lkey: s.m1.lkey, addr: s.local, length: 64 * 8 }, remoteAddr: s.remote, rkey: s.rmr.rkey });
    const whole = one(s.a.cq).time;
    expect(times[2]!.time - whole).toBeCloseTo(7 * oneElement.sgeUs, 9);
    expect(oneElement.sgeUs).toBeGreaterThan(0);
  });

  it('fails the whole request when one element has a bad key (LOCAL_PROTECTION_ERROR), writing nothing', () => {
    const s = setup();
    const sgl = [
      { lkey: s.m1.lkey, addr: s.local, length: 16 },
      { lkey: s.m1.lkey, addr: s.local + 3 * PAGE, length: 16 }, // outside m1
    ];
    s.qa.rdmaRead({ wrId: 7, sge: sgl[0]!, sgl, remoteAddr: s.remote, rkey: s.rmr.rkey });
    expect(one(s.a.cq).status).toBe(Status.LOCAL_PROTECTION_ERROR);
    expect(s.a.space.read(s.local, 16).every((x) => x === 0xee)).toBe(true);
  });
});
