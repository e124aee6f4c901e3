/**
 * RdmaWorkRequest.timed: a transfer's times are fixed (ports reserved, completion pushed) before its
 * bytes move, so the poster can tell others while the copy is still to come; the times are those of
 * the same post without it; a transfer that fails, or a list of several elements, never calls it.
 */
import { describe, expect, it } from 'vitest';
import { Access, Status, type Completion } from '@tsmpi/fabric';
import { ALL, PAGE, one, pair, pattern } from './fixture.js';

function setup() {
  const s = pair('pinning');
  const remote = s.b.space.mmap(4 * PAGE);
  s.b.space.write(remote, pattern(4 * PAGE, 5));
  const rmr = s.b.pd.registerMemory(remote, 4 * PAGE, ALL);
  const local = s.a.space.mmap(4 * PAGE);
  s.a.space.fill(local, 4 * PAGE, 0xee);
  const lmr = s.a.pd.registerMemory(local, 4 * PAGE, Access.LOCAL_WRITE);
  return { ...s, remote, rmr, local, lmr };
}

describe('a timed RDMA read', () => {
  it('has its completion pushed before its bytes move, at the time the same read has without `timed`', () => {
    const s = setup();
    const seen: { completions: Completion[]; landing: Uint8Array }[] = [];
    s.a.clock.set(10);
    s.qa.rdmaRead({
      wrId: 1, sge: { lkey: s.lmr.lkey, addr: s.local, length: 4 * PAGE }, remoteAddr: s.remote, rkey: s.rmr.rkey,
      timed: () => seen.push({ completions: s.a.cq.poll(16), landing: s.a.space.read(s.local, 4 * PAGE) }),
    });
    expect(seen).toHaveLength(1);
    const [c] = seen[0]!.completions;
    expect(c?.status).toBe(Status.SUCCESS);
    expect(seen[0]!.landing.every((b) => b === 0xee)).toBe(true); // not a byte moved yet
    expect(s.a.space.read(s.local, 4 * PAGE)).toEqual(pattern(4 * PAGE, 5)); // all of them after the post

    // the same read on an idle pair of ports, without `timed`: the same completion time and length
    const u = setup();
    u.a.clock.set(10);
    u.qa.rdmaRead({ wrId: 1, sge: { lkey: u.lmr.lkey, addr: u.local, length: 4 * PAGE }, remoteAddr: u.remote, rkey: u.rmr.rkey });
    const plain = one(u.a.cq);
    expect(c!.time).toBe(plain.time);
    expect(c!.byteLength).toBe(plain.byteLength);
    expect(s.a.pd.stats).toEqual(u.a.pd.stats);
  });

  it('is never called for a read that fails, nor for a scatter/gather list of two elements', () => {
    const f = setup();
    let calls = 0;
    const timed = () => calls++;
    f.b.pd.deregister(f.rmr);
    f.qa.rdmaRead({ wrId: 2, sge: { lkey: f.lmr.lkey, addr: f.local, length: PAGE }, remoteAddr: f.remote, rkey: f.rmr.rkey, timed });
    expect(one(f.a.cq).status).toBe(Status.REMOTE_ACCESS_ERROR);
    // an access error is fatal for its queue pair (verbs): the list goes over a fresh pair
    const s = setup();
    const sgl = [{ lkey: s.lmr.lkey, addr: s.local, length: 100 }, { lkey: s.lmr.lkey, addr: s.local + PAGE, length: 100 }];
    s.qa.rdmaRead({ wrId: 3, sge: sgl[0]!, sgl, remoteAddr: s.remote, rkey: s.rmr.rkey, timed });
    expect(one(s.a.cq).status).toBe(Status.SUCCESS);
    expect(s.a.space.read(s.local + PAGE, 100)).toEqual(pattern(4 * PAGE, 5).subarray(100, 200));
    expect(calls).toBe(0);
  });
});
