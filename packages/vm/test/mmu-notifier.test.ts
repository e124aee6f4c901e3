import { describe, expect, it } from 'vitest';
import { AddressSpace, PhysicalMemory, Prot, type InvalidationRange, type MmuNotifierSubscriber } from '@tsmpi/vm';

const PS = 4096;
const setup = () => {
  const memory = new PhysicalMemory({ bytes: 512 * PS, swapBytes: 64 * PS });
  const space = new AddressSpace(memory, { vaBytes: 64 * 1024 * 1024 });
  const log: string[] = [];
  const fmt = (r: InvalidationRange) => `${r.event}/${r.cause} +${(r.start - base) / PS}..+${(r.end - base) / PS}`;
  let base = 0;
  const sub: MmuNotifierSubscriber = {
    invalidateRangeStart: (r) => log.push(`start ${fmt(r)} seqOdd=${space.header[0]! & 1}`),
    invalidateRangeEnd: (r) => log.push(`end ${fmt(r)}`),
    release: () => log.push('release'),
  };
  const unsubscribe = space.mmuNotifier.subscribe(sub);
  const hooks: string[] = [];
  space.memoryHooks.on((e) => hooks.push(`${e.call} +${(e.start - base) / PS}..+${(e.end - base) / PS}`));
  return { memory, space, log, hooks, unsubscribe, setBase: (b: number) => (base = b) };
};

describe('mmu notifier', () => {
  it('munmap of populated pages: start (seq odd, pages still mapped) then end', () => {
    const { space, log, hooks, setBase } = setup();
    const a = space.mmap(4 * PS, { populate: true });
    setBase(a);
    let mappedDuringStart: number | undefined;
    space.mmuNotifier.subscribe({
      invalidateRangeStart: () => (mappedDuringStart = space.translate(a + PS)),
      invalidateRangeEnd: () => {},
      release: () => {},
    });
    const seq = space.readBegin();
    space.munmap(a + PS, 2 * PS);
    expect(log).toEqual(['start unmap/munmap +1..+3 seqOdd=1', 'end unmap/munmap +1..+3']);
    expect(hooks).toEqual(['munmap +1..+3']);
    expect(mappedDuringStart).toBeDefined();
    expect(space.readRetry(seq)).toBe(true);
    expect(space.readBegin()).toBe(seq + 2);
  });

  it('follows seed 004: only changes over populated pages raise events', () => {
    const { space, log, hooks, setBase } = setup();
    const t = space.mmap(3 * PS, { prot: Prot.READ, populate: true });
    setBase(t);
    space.mmap(PS, { addr: t, fixed: true, prot: Prot.READ }); // Event? Probably
    expect(log).toEqual(['start unmap/mmap-fixed +0..+1 seqOdd=1', 'end unmap/mmap-fixed +0..+1']);
    space.munmap(t, PS); // Event? No, no MAP_POPULATE
    space.mmap(PS, { addr: t, fixed: true, prot: Prot.READ }); // Event? No
    expect(log).toHaveLength(2);
    // the interception library sees every call regardless
    expect(hooks).toEqual(['mmap-fixed +0..+1', 'munmap +0..+1', 'mmap-fixed +0..+1']);
    // the munmap ran over an unpopulated page (skipped); the last mmap found the range empty (nothing to unmap)
    expect(space.mmuNotifier.counts).toMatchObject({ unmap: 1, skipped: 1 });
  });

  it('mprotect removing access is a protection event; adding access is silent', () => {
    const { space, log, setBase } = setup();
    const a = space.mmap(2 * PS, { populate: true });
    setBase(a);
    space.mprotect(a, PS, Prot.READ);
    space.mprotect(a, PS, Prot.RW);
    expect(log).toEqual(['start protection/mprotect +0..+1 seqOdd=1', 'end protection/mprotect +0..+1']);
  });

  it('madvise(DONTNEED) clears and the next touch sees a fresh zeroed frame', () => {
    const { space, memory, log, hooks, setBase } = setup();
    const a = space.mmap(2 * PS);
    setBase(a);
    space.write(a, new Uint8Array(2 * PS).fill(0xab));
    const f0 = space.translate(a);
    const free0 = memory.stats().free;
    space.madvise(a, 2 * PS, 'dontneed');
    expect(memory.stats().free).toBe(free0 + 2);
    expect(space.translate(a)).toBeUndefined();
    expect(space.read(a, 2 * PS).every((b) => b === 0)).toBe(true);
    expect(space.translate(a)).toBeDefined();
    expect(log).toEqual(['start clear/madvise +0..+2 seqOdd=1', 'end clear/madvise +0..+2']);
    expect(hooks).toEqual(['madvise +0..+2']);
    void f0;
  });

  it('exit calls release once and no event after it', () => {
    const { space, memory, log } = setup();
    const a = space.mmap(4 * PS, { populate: true });
    space.exit();
    expect(log).toEqual(['release']);
    expect(memory.stats().mapped).toBe(0);
    expect(() => space.read(a, 1)).toThrow(/exited/);
    expect(space.mmuNotifier.subscribers).toBe(0);
  });

  it('unsubscribe stops delivery', () => {
    const { space, log, unsubscribe } = setup();
    const a = space.mmap(PS, { populate: true });
    unsubscribe();
    space.munmap(a, PS);
    expect(log).toEqual([]);
  });
});
