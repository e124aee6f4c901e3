import { describe, expect, it } from 'vitest';
import { Allocator, AddressSpace, PhysicalMemory, Ummunotify } from '@tsmpi/vm';

const PS = 4096;
const setup = (capacity?: number) => {
  const memory = new PhysicalMemory({ bytes: 1024 * PS, swapBytes: 16 * PS });
  const space = new AddressSpace(memory, { vaBytes: 256 * 1024 * 1024 });
  const umn = new Ummunotify(space, capacity === undefined ? {} : { capacity });
  return { memory, space, umn };
};

describe('Ummunotify', () => {
  it('an invalidation over a watched range bumps the generation and queues the cookie once', () => {
    const { space, umn } = setup();
    const a = space.mmap(4 * PS, { populate: true });
    const b = space.mmap(4 * PS, { populate: true });
    umn.register(a, a + 4 * PS, 1);
    umn.register(b, b + 4 * PS, 2);
    const g0 = umn.generation;
    space.madvise(a, PS, 'dontneed');
    space.write(a, new Uint8Array([1]));
    space.madvise(a, PS, 'dontneed'); // a repeat collapses
    expect(umn.generation).toBe(g0 + 2);
    expect(umn.stats).toMatchObject({ events: 2, queued: 1, collapsed: 1, pending: 1 });
    expect(umn.drain()).toEqual([1]);
    expect(umn.drain()).toEqual([]);
    space.migrate(b, 4 * PS); // kernel-initiated: the channel hears it
    expect(umn.drain()).toEqual([2]);
  });

  it('stays bounded over 10^4 free/malloc cycles with no drain', () => {
    const { space, umn } = setup(8);
    const heap = new Allocator(space);
    let p = heap.malloc(256 * 1024);
    space.fill(p, 256 * 1024, 1);
    umn.register(p, p + 256 * 1024, 7);
    for (let i = 0; i < 10_000; i++) {
      heap.free(p);
      p = heap.malloc(256 * 1024);
      space.write(p, new Uint8Array([i & 0xff]));
    }
    expect(umn.stats).toMatchObject({ events: 10_000, queued: 1, collapsed: 9_999, pending: 1, overflows: 0 });
    expect(umn.generation).toBe(10_000);
    expect(umn.overflowed).toBe(false);
    expect(umn.drain()).toEqual([7]);
  });

  it('sets overflowed instead of growing when more cookies are invalidated than it holds', () => {
    const { space, umn } = setup(2);
    const a = space.mmap(4 * PS, { populate: true });
    for (let i = 0; i < 4; i++) umn.register(a + i * PS, a + (i + 1) * PS, 100 + i);
    space.munmap(a, 4 * PS);
    expect(umn.overflowed).toBe(true);
    expect(umn.stats).toMatchObject({ queued: 2, overflows: 2, pending: 2 });
    expect(umn.drain(1)).toEqual([100]);
    umn.clearOverflow();
    expect(umn.overflowed).toBe(false);
    expect(umn.drain()).toEqual([]);
  });

  it('drops a queued cookie that was unregistered before the drain', () => {
    const { space, umn } = setup();
    const a = space.mmap(PS, { populate: true });
    umn.register(a, a + PS, 5);
    space.madvise(a, PS, 'dontneed');
    umn.unregister(5);
    expect(umn.drain()).toEqual([]);
    umn.close();
    space.write(a, new Uint8Array([1]));
    space.munmap(a, PS);
    expect(umn.generation).toBe(1);
  });
});
