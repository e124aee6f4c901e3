import { MemlockLimitExceeded } from '@tsmpi/vm';
import { describe, expect, it } from 'vitest';
import { RegistrationError, Status, statusName } from '@tsmpi/fabric';
import { ALL, PAGE, one, pair, pattern, reconnect } from './fixture.js';

const LEN = 4 * PAGE;

/**
 * The scenario of the 2008 LKML thread "MMU Notifiers V6": b registers a buffer, frees it (munmap), allocates again (same
 * address, new frames) and fills it; a then reads through the old registration.
 */
function freeAndReallocate(kind: 'pinning' | 'odp', opts: { pinMode?: 'pin' | 'mlock' } = {}) {
  const p = pair(kind, opts);
  const { a, b } = p;
  const local = a.space.mmap(LEN);
  const lmr = a.pd.registerMemory(local, LEN, ALL);
  const buf = b.space.mmap(LEN);
  b.space.write(buf, pattern(LEN, 1));
  const rmr = b.pd.registerMemory(buf, LEN, ALL);
  const read = (wrId: number) => {
    p.qa.rdmaRead({ wrId, sge: { lkey: lmr.lkey, addr: local, length: LEN }, remoteAddr: buf, rkey: rmr.rkey });
    return one(a.cq);
  };
  return { ...p, local, lmr, buf, rmr, read };
}

describe('pinning: a registration the cache was not told about goes stale', () => {
  it('reads the OLD contents after munmap + mmap at the same address', () => {
    const s = freeAndReallocate('pinning');
    expect(read(s, 1)).toEqual(pattern(LEN, 1));
    s.b.space.munmap(s.buf, LEN);
    const again = s.b.space.mmap(LEN);
    expect(again).toBe(s.buf); // Linux placement: the hole is reused
    s.b.space.write(again, pattern(LEN, 2));
    const c = s.read(2);
    expect(statusName(c.status)).toBe('SUCCESS'); // no error: the adapter cannot know
    expect(s.a.space.read(s.local, LEN)).toEqual(pattern(LEN, 1)); // stale bytes, really delivered
    expect(s.memory.stats.pinned).toBe(8); // a's 4 + b's 4 old frames, kept alive by the pins
  });

  it('writes into the OLD frames: the new mapping never sees an RDMA write', () => {
    const s = freeAndReallocate('pinning');
    s.b.space.munmap(s.buf, LEN);
    const again = s.b.space.mmap(LEN);
    s.b.space.write(again, pattern(LEN, 2));
    s.a.space.write(s.local, pattern(LEN, 3));
    s.qa.rdmaWrite({ wrId: 1, sge: { lkey: s.lmr.lkey, addr: s.local, length: LEN }, remoteAddr: s.buf, rkey: s.rmr.rkey });
    expect(one(s.a.cq).status).toBe(Status.SUCCESS);
    expect(s.b.space.read(again, LEN)).toEqual(pattern(LEN, 2));
  });

  it('refuses registration beyond the locked-memory limit with ENOMEM and pins nothing', () => {
    const p = pair('pinning', { memlockLimit: 64 * 1024 });
    const buf = p.b.space.mmap(128 * 1024);
    let err: unknown;
    try {
      p.b.pd.registerMemory(buf, 128 * 1024, ALL);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RegistrationError);
    expect((err as RegistrationError).code).toBe('ENOMEM');
    expect((err as RegistrationError).cause).toBeInstanceOf(MemlockLimitExceeded);
    expect(p.memory.stats.pinned).toBe(0);
    expect(p.b.pd.stats).toMatchObject({ registrations: 0, pinnedPages: 0 });
    expect(p.b.clock.now).toBe(0); // a failed registration is not charged
    const ok = p.b.pd.registerMemory(buf, 64 * 1024, ALL);
    expect(p.b.pd.stats).toMatchObject({ registrations: 1, pinnedPages: 16, registeredBytes: 64 * 1024 });
    p.b.pd.deregister(ok);
    expect(p.b.pd.stats).toMatchObject({ deregistrations: 1, pinnedPages: 0, registeredBytes: 0 });
    expect(p.memory.stats.pinned).toBe(0);
  });

  it('makes migration and reclaim refuse the registered pages', () => {
    const s = freeAndReallocate('pinning');
    expect(s.b.space.migrate(s.buf, LEN)).toMatchObject({ moved: 0, refused: [s.buf, s.buf + PAGE, s.buf + 2 * PAGE, s.buf + 3 * PAGE] });
    expect(s.b.space.reclaim(s.buf, LEN).refused.length).toBe(4);
    s.b.space.write(s.buf, pattern(LEN, 5));
    s.read(1);
    expect(s.a.space.read(s.local, LEN)).toEqual(pattern(LEN, 5));
  });

  it("pinMode 'mlock': reclaim refuses the pages but migration moves them and the snapshot goes stale", () => {
    const s = freeAndReallocate('pinning', { pinMode: 'mlock' });
    expect(s.b.pd.stats).toMatchObject({ mlockedPages: 4, pinnedPages: 0 });
    expect(s.b.space.reclaim(s.buf, LEN).refused.length).toBe(4);
    expect(s.b.space.migrate(s.buf, LEN).moved).toBe(4);
    s.b.space.write(s.buf, pattern(LEN, 6)); // lands in the new frames
    expect(s.read(1).status).toBe(Status.SUCCESS);
    expect(s.a.space.read(s.local, LEN)).not.toEqual(pattern(LEN, 6)); // the adapter read the frames the pages left
  });
});

describe('odp: the adapter follows the page table', () => {
  it('reads the NEW contents after munmap + mmap at the same address, counting the faults', () => {
    const s = freeAndReallocate('odp');
    expect(s.b.pd.stats).toMatchObject({ registrations: 1, pinnedPages: 0, odpFaults: 0 });
    expect(s.read(1).status).toBe(Status.SUCCESS);
    expect(s.a.space.read(s.local, LEN)).toEqual(pattern(LEN, 1));
    s.b.space.munmap(s.buf, LEN);
    expect(s.b.pd.stats).toMatchObject({ odpInvalidations: 1, odpZappedPages: 4 });
    const again = s.b.space.mmap(LEN);
    expect(again).toBe(s.buf);
    s.b.space.write(again, pattern(LEN, 2));
    expect(s.read(2).status).toBe(Status.SUCCESS);
    expect(s.a.space.read(s.local, LEN)).toEqual(pattern(LEN, 2));
    // b's region faulted on both reads; a's local region faulted once (first write into it)
    expect(s.b.pd.stats).toMatchObject({ odpFaults: 2, odpFaultPages: 8 });
    expect(s.a.pd.stats).toMatchObject({ odpFaults: 1, odpFaultPages: 4 });
    expect(s.memory.stats.pinned).toBe(0);
  });

  it('completes a DMA to a range no longer mapped with REMOTE_ACCESS_ERROR (and a local one with LOCAL_PROTECTION_ERROR)', () => {
    const s = freeAndReallocate('odp');
    s.b.space.munmap(s.buf, LEN);
    expect(statusName(s.read(1).status)).toBe('REMOTE_ACCESS_ERROR');
    reconnect(s); // the error left the QP in ERR (verbs): the next post would only flush
    s.a.space.munmap(s.local, LEN);
    const other = s.b.space.mmap(LEN);
    const omr = s.b.pd.registerMemory(other, LEN, ALL);
    s.qa.rdmaRead({ wrId: 3, sge: { lkey: s.lmr.lkey, addr: s.local, length: LEN }, remoteAddr: other, rkey: omr.rkey });
    expect(statusName(one(s.a.cq).status)).toBe('LOCAL_PROTECTION_ERROR');
  });

  it('registers beyond the locked-memory limit: nothing is pinned', () => {
    const p = pair('odp', { memlockLimit: 64 * 1024 });
    const buf = p.b.space.mmap(1024 * 1024);
    const mr = p.b.pd.registerMemory(buf, 1024 * 1024, ALL);
    expect(mr.pages).toBe(256);
    expect(p.memory.stats.pinned).toBe(0);
  });

  it('lets migration and reclaim proceed, invalidating, and the next DMA sees the moved pages', () => {
    const s = freeAndReallocate('odp');
    s.read(1);
    expect(s.b.space.migrate(s.buf, LEN)).toMatchObject({ moved: 4, refused: [] });
    expect(s.b.pd.stats).toMatchObject({ odpInvalidations: 1, odpZappedPages: 4 });
    s.b.space.write(s.buf, pattern(LEN, 7));
    s.read(2);
    expect(s.a.space.read(s.local, LEN)).toEqual(pattern(LEN, 7));
    expect(s.b.space.reclaim(s.buf, LEN)).toMatchObject({ reclaimed: 4, refused: [] });
    s.a.space.fill(s.local, LEN, 0);
    s.read(3); // the network fault swaps the pages back in
    expect(s.a.space.read(s.local, LEN)).toEqual(pattern(LEN, 7));
    expect(s.b.pd.stats).toMatchObject({ odpInvalidations: 2, odpFaults: 3 });
  });

  it('advise prefetches: the next DMA takes no fault', () => {
    const s = freeAndReallocate('odp');
    const t0 = s.b.clock.now;
    expect(s.b.pd.advise(s.rmr, s.buf, LEN)).toBe(4);
    expect(s.b.clock.now - t0).toBe(s.cost.odpFaultUs);
    expect(s.b.pd.stats).toMatchObject({ prefetchPages: 4, odpFaults: 1 });
    s.read(1);
    expect(s.b.pd.stats.odpFaults).toBe(1);
    expect(s.a.space.read(s.local, LEN)).toEqual(pattern(LEN, 1));
  });
});

function read(s: ReturnType<typeof freeAndReallocate>, wrId: number): Uint8Array {
  expect(s.read(wrId).status).toBe(Status.SUCCESS);
  return s.a.space.read(s.local, LEN);
}
