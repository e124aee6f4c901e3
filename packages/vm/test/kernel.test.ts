import { describe, expect, it } from 'vitest';
import { AddressSpace, MemlockLimitExceeded, PermissionDenied, PhysicalMemory, type InvalidationRange } from '@tsmpi/vm';

const PS = 4096;
const setup = (memlockLimit = 8 * 1024 * 1024) => {
  const memory = new PhysicalMemory({ bytes: 256 * PS, swapBytes: 8 * PS });
  const space = new AddressSpace(memory, { vaBytes: 64 * 1024 * 1024, memlockLimit });
  const events: InvalidationRange[] = [];
  space.mmuNotifier.subscribe({
    invalidateRangeStart: (r) => events.push({ ...r }),
    invalidateRangeEnd: () => {},
    release: () => {},
  });
  const hooks: string[] = [];
  space.memoryHooks.on((e) => hooks.push(e.call));
  return { memory, space, events, hooks };
};
const page = (v: number) => new Uint8Array(PS).fill(v);

describe('migrate', () => {
  it('moves unpinned pages with their contents, refuses pinned ones, and no hook sees it', () => {
    const { space, memory, events, hooks } = setup();
    const a = space.mmap(4 * PS);
    for (let i = 0; i < 4; i++) space.write(a + i * PS, page(i + 1));
    const before = [0, 1, 2, 3].map((i) => space.translate(a + i * PS)!);
    const pinned = space.pin(a + PS, PS);
    const r = space.migrate(a, 4 * PS);
    expect(r).toEqual({ moved: 3, refused: [a + PS] });
    const after = [0, 1, 2, 3].map((i) => space.translate(a + i * PS)!);
    expect(after[1]).toBe(before[1]);
    for (const i of [0, 2, 3]) expect(after[i]).not.toBe(before[i]);
    for (let i = 0; i < 4; i++) expect(space.read(a + i * PS, PS)).toEqual(page(i + 1));
    expect(events).toEqual([{ start: a, end: a + 4 * PS, event: 'migrate', cause: 'migrate' }]);
    expect(hooks).toEqual([]);
    expect(memory.stats.mapped).toBe(4);
    space.unpin(pinned);
  });

  it('moves mlocked pages too (Linux: mlock does not pin)', () => {
    const { space } = setup();
    const a = space.mmap(2 * PS);
    space.mlock(a, 2 * PS);
    const f = space.translate(a);
    expect(space.migrate(a, 2 * PS)).toEqual({ moved: 2, refused: [] });
    expect(space.translate(a)).not.toBe(f);
  });

  it('does nothing and raises nothing over unpopulated pages', () => {
    const { space, events } = setup();
    const a = space.mmap(2 * PS);
    expect(space.migrate(a, 2 * PS)).toEqual({ moved: 0, refused: [] });
    expect(events).toEqual([]);
  });
});

describe('reclaim', () => {
  it('swaps out unpinned, unlocked pages; the next touch swaps them back in', () => {
    const { space, memory, events, hooks } = setup();
    const a = space.mmap(4 * PS);
    for (let i = 0; i < 4; i++) space.write(a + i * PS, page(10 + i));
    const pinned = space.pin(a, PS);
    space.mlock(a + PS, PS);
    const free0 = memory.stats.free;
    const r = space.reclaim(a, 4 * PS);
    expect(r).toEqual({ reclaimed: 2, refused: [a, a + PS], swapFull: 0 });
    expect(memory.stats).toMatchObject({ free: free0 + 2, swapped: 2 });
    expect(space.translate(a + 2 * PS)).toBeUndefined();
    expect(events).toEqual([{ start: a, end: a + 4 * PS, event: 'clear', cause: 'reclaim' }]);
    expect(hooks).toEqual([]);
    expect(space.read(a + 2 * PS, PS)).toEqual(page(12));
    expect(space.read(a + 3 * PS, PS)).toEqual(page(13));
    expect(space.stats.swapIns).toBe(2);
    expect(memory.stats).toMatchObject({ free: free0, swapped: 0 });
    space.unpin(pinned);
  });

  it('reports pages it could not swap when the swap area is full', () => {
    const { space, memory } = setup();
    const a = space.mmap(10 * PS, { populate: true });
    const r = space.reclaim(a, 10 * PS);
    expect(r).toEqual({ reclaimed: 8, refused: [], swapFull: 2 });
    expect(memory.stats.swapped).toBe(8);
    space.munmap(a, 10 * PS);
    expect(memory.stats.swapped).toBe(0);
  });
});

describe('mlock', () => {
  it('is charged to the memlock limit together with pins', () => {
    const { space } = setup(4 * PS);
    const a = space.mmap(8 * PS);
    space.mlock(a, 2 * PS);
    space.mlock(a, 2 * PS); // already locked: no new charge
    expect(space.lockedBytes).toBe(2 * PS);
    expect(space.residentPages()).toBe(2);
    expect(() => space.pin(a + 2 * PS, 3 * PS)).toThrow(MemlockLimitExceeded);
    expect(() => space.mlock(a + 2 * PS, 3 * PS)).toThrow(MemlockLimitExceeded);
    space.munlock(a, PS);
    expect(space.lockedBytes).toBe(PS);
    space.munmap(a, 8 * PS);
    expect(space.lockedBytes).toBe(0);
  });

  it('growing an mlocked mapping with mremap charges and populates the new pages', () => {
    const { space } = setup(4 * PS);
    const a = space.mmap(2 * PS);
    space.mlock(a, 2 * PS);
    expect(space.mremap(a, 2 * PS, 4 * PS)).toBe(a);
    expect(space.lockedBytes).toBe(4 * PS);
    expect(space.residentPages(a, 4 * PS)).toBe(4);
    expect(() => space.mremap(a, 4 * PS, 5 * PS)).toThrow(MemlockLimitExceeded);
    space.munmap(a, 4 * PS);
    expect(space.lockedBytes).toBe(0);
  });

  it('is EPERM with a zero limit', () => {
    const { space } = setup(0);
    const a = space.mmap(PS);
    expect(() => space.mlock(a, PS)).toThrow(PermissionDenied);
  });

  it('makes madvise(DONTNEED) fail with EINVAL', () => {
    const { space } = setup();
    const a = space.mmap(PS);
    space.mlock(a, PS);
    expect(() => space.madvise(a, PS, 'dontneed')).toThrow(/EINVAL/);
  });
});
