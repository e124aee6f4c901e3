import { describe, expect, it } from 'vitest';
import { AddressSpace, BadAddress, InvalidArgument, OutOfMemory, PhysicalMemory, type InvalidationRange } from '@tsmpi/vm';

const PS = 4096;
const setup = () => {
  const memory = new PhysicalMemory({ bytes: 1024 * PS, swapBytes: 64 * PS });
  const space = new AddressSpace(memory, { vaBytes: 64 * 1024 * 1024 });
  const events: InvalidationRange[] = [];
  space.mmuNotifier.subscribe({
    invalidateRangeStart: (r) => events.push({ ...r }),
    invalidateRangeEnd: () => {},
    release: () => {},
  });
  const hooks: string[] = [];
  space.memoryHooks.on((e) => hooks.push(`${e.call} ${e.start} ${e.end}`));
  return { memory, space, events, hooks };
};
const pattern = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);

describe('mremap', () => {
  it('moves with mayMove when it cannot grow in place, keeping the frames and the bytes', () => {
    const { space, events, hooks, memory } = setup();
    const a = space.mmap(2 * PS);
    space.mmap(PS, { addr: a + 2 * PS, fixed: true }); // blocks growth in place
    space.write(a, pattern(2 * PS));
    const frames = [space.translate(a), space.translate(a + PS)];
    const mappedBefore = memory.stats.mapped;
    expect(() => space.mremap(a, 2 * PS, 4 * PS)).toThrow(OutOfMemory);
    const b = space.mremap(a, 2 * PS, 4 * PS, { mayMove: true });
    expect(b).not.toBe(a);
    expect(space.read(b, 2 * PS)).toEqual(pattern(2 * PS));
    expect([space.translate(b), space.translate(b + PS)]).toEqual(frames); // page tables move, frames stay
    expect(space.read(b + 2 * PS, 2 * PS).every((x) => x === 0)).toBe(true);
    expect(() => space.read(a, 1)).toThrow(/no mapping/);
    expect(memory.stats.mapped).toBe(mappedBefore + 2);
    expect(events).toEqual([{ start: a, end: a + 2 * PS, event: 'unmap', cause: 'mremap' }]);
    expect(hooks).toEqual([`mmap-fixed ${a + 2 * PS} ${a + 3 * PS}`, `mremap ${a} ${a + 2 * PS}`, `mremap ${a} ${a + 2 * PS}`]);
  });

  it('grows in place when the next pages are free; raises no invalidation', () => {
    const { space, events } = setup();
    const low = space.mmap(4 * PS);
    space.munmap(low, 4 * PS);
    const a = space.mmap(PS, { populate: true });
    const b = space.mremap(a, PS, 3 * PS);
    expect(b).toBe(a);
    expect(space.mappings().find((v) => v.start === a)?.end).toBe(a + 3 * PS);
    expect(events).toEqual([]);
  });

  it('shrinks by unmapping the tail', () => {
    const { space, events, memory } = setup();
    const a = space.mmap(4 * PS, { populate: true });
    const free0 = memory.stats.free;
    expect(space.mremap(a, 4 * PS, PS)).toBe(a);
    expect(memory.stats.free).toBe(free0 + 3);
    expect(events).toEqual([{ start: a + PS, end: a + 4 * PS, event: 'unmap', cause: 'mremap' }]);
  });

  it('fixed moves onto the target, unmapping what was there', () => {
    const { space, events } = setup();
    const a = space.mmap(2 * PS);
    space.write(a, pattern(2 * PS));
    const t = space.mmap(2 * PS, { populate: true });
    const b = space.mremap(a, 2 * PS, 2 * PS, { mayMove: true, fixed: true, newAddr: t });
    expect(b).toBe(t);
    expect(space.read(t, 2 * PS)).toEqual(pattern(2 * PS));
    expect(events.map((e) => [e.start - t, e.cause])).toEqual([
      [0, 'mremap'],
      [a - t, 'mremap'],
    ]);
  });

  it('rejects ranges across two mappings and fixed without mayMove', () => {
    const { space } = setup();
    const a = space.mmap(PS);
    expect(() => space.mremap(a, 2 * PS, 3 * PS, { mayMove: true })).toThrow(BadAddress);
    expect(() => space.mremap(a, PS, PS, { fixed: true, newAddr: 0x100000 })).toThrow(InvalidArgument);
  });
});

describe('brk and sbrk', () => {
  it('grows the heap on demand and shrinking returns the frames with brk events', () => {
    const { space, memory, events, hooks } = setup();
    const base = space.sbrk(0);
    expect(space.sbrk(10 * PS)).toBe(base);
    expect(space.brk()).toBe(base + 10 * PS);
    space.fill(base, 10 * PS, 1);
    const free0 = memory.stats.free;
    expect(space.sbrk(-6 * PS - 100)).toBe(base + 10 * PS);
    const brk = base + 4 * PS - 100;
    expect(space.brk()).toBe(brk);
    // the page holding the break stays mapped
    expect(memory.stats.free).toBe(free0 + 6);
    expect(space.read(brk - 1, 1)[0]).toBe(1);
    expect(events).toEqual([{ start: base + 4 * PS, end: base + 10 * PS, event: 'unmap', cause: 'brk' }]);
    expect(hooks).toEqual([`brk ${brk} ${base + 10 * PS}`]);
    expect(() => space.read(base + 4 * PS, 1)).toThrow(/no mapping/);
  });

  it('refuses to grow into a mapping: brk keeps the old break and sbrk throws', () => {
    const { space } = setup();
    const base = space.brk();
    space.mmap(PS, { addr: base + 2 * PS, fixed: true });
    expect(space.brk(base + 3 * PS)).toBe(base);
    expect(() => space.sbrk(3 * PS)).toThrow(OutOfMemory);
    expect(space.brk(base - PS)).toBe(base);
  });
});
