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
    const free0 = memory.stats.free;
    space.madvise(a, 2 * PS, 'dontneed');
    expect(memory.stats.free).toBe(free0 + 2);
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
    expect(memory.stats.mapped).toBe(0);
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

describe('the exact sequence for each call', () => {
  // Each case: a populated 4-page mapping at `a` (plus what `prepare` adds), then `act`.
  // Recorded: start/end with the range relative to `a`, whether the sequence count was odd, and
  // whether the first page of the range was still mapped to its old frame (at start) / not (at end).
  const cases: {
    name: string;
    act: (s: AddressSpace, a: number) => void;
    prepare?: (s: AddressSpace, a: number) => void;
    want: string;
    hook: string | null;
  }[] = [
    { name: 'munmap', act: (s, a) => s.munmap(a + PS, 2 * PS), want: 'unmap/munmap 1..3', hook: 'munmap 1..3' },
    { name: 'mremap (move)', prepare: (s, a) => s.mmap(PS, { addr: a + 4 * PS, fixed: true }), act: (s, a) => void s.mremap(a, 4 * PS, 8 * PS, { mayMove: true }), want: 'unmap/mremap 0..4', hook: 'mremap 0..4' },
    { name: 'mremap (shrink)', act: (s, a) => void s.mremap(a, 4 * PS, PS), want: 'unmap/mremap 1..4', hook: 'mremap 0..4' },
    { name: 'mmap FIXED', act: (s, a) => void s.mmap(2 * PS, { addr: a + 2 * PS, fixed: true }), want: 'unmap/mmap-fixed 2..4', hook: 'mmap-fixed 2..4' },
    { name: 'mprotect', act: (s, a) => s.mprotect(a, 4 * PS, Prot.NONE), want: 'protection/mprotect 0..4', hook: null },
    { name: 'madvise', act: (s, a) => s.madvise(a + 3 * PS, PS, 'dontneed'), want: 'clear/madvise 3..4', hook: 'madvise 3..4' },
    { name: 'migrate', act: (s, a) => void s.migrate(a, 4 * PS), want: 'migrate/migrate 0..4', hook: null },
    { name: 'reclaim', act: (s, a) => void s.reclaim(a, 4 * PS), want: 'clear/reclaim 0..4', hook: null },
  ];
  for (const c of cases) {
    it(`${c.name}: start (odd, old frame mapped) → change → end (odd, frame changed)`, () => {
      const memory = new PhysicalMemory({ bytes: 64 * PS, swapBytes: 16 * PS });
      const space = new AddressSpace(memory, { vaBytes: 64 * 1024 * 1024 });
      const a = space.mmap(4 * PS, { populate: true });
      c.prepare?.(space, a);
      const log: string[] = [];
      const hooks: string[] = [];
      let first = -1;
      const rel = (r: InvalidationRange) => `${r.event}/${r.cause} ${(r.start - a) / PS}..${(r.end - a) / PS}`;
      space.mmuNotifier.subscribe({
        invalidateRangeStart: (r) => {
          first = space.translate(r.start) ?? -1;
          log.push(`start ${rel(r)} odd=${space.header[0]! & 1} mapped=${first >= 0}`);
        },
        invalidateRangeEnd: (r) => {
          const now = space.translate(r.start) ?? -1;
          log.push(`end ${rel(r)} odd=${space.header[0]! & 1} same=${now === first}`);
        },
        release: () => log.push('release'),
      });
      space.memoryHooks.on((e) => hooks.push(`${e.call} ${(e.start - a) / PS}..${(e.end - a) / PS}`));
      const seq = space.readBegin();
      c.act(space, a);
      // mprotect keeps the frame (only the protection changes); everything else moves or drops it
      const same = c.name === 'mprotect';
      expect(log).toEqual([`start ${c.want} odd=1 mapped=true`, `end ${c.want} odd=1 same=${same}`]);
      expect(hooks).toEqual(c.hook === null ? [] : [c.hook]);
      expect(space.readBegin()).toBe(seq + 2);
    });
  }
});
