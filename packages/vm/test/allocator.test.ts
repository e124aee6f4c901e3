import { describe, expect, it } from 'vitest';
import { Allocator, AddressSpace, InvalidArgument, PhysicalMemory } from '@tsmpi/vm';

const PS = 4096;
const KiB = 1024;
const setup = (opts: { mmapThreshold?: number; trimThreshold?: number } = {}) => {
  const memory = new PhysicalMemory({ bytes: 4096 * PS, swapBytes: 0 });
  const space = new AddressSpace(memory, { vaBytes: 256 * 1024 * 1024 });
  const heap = new Allocator(space, opts);
  const calls: string[] = [];
  space.memoryHooks.on((e) => calls.push(e.call));
  return { memory, space, heap, calls };
};

describe('Allocator', () => {
  it('small chunks come from the brk heap, 16-byte aligned, and free+malloc reuses the address', () => {
    const { space, heap } = setup();
    const base = space.brk();
    const a = heap.malloc(100);
    const b = heap.malloc(100);
    expect(a).toBe(base + 16);
    expect(b).toBe(a + 112); // request2size(100) = 112
    expect(a % 16).toBe(0);
    expect(heap.usableSize(a)).toBe(104);
    heap.free(a);
    expect(heap.malloc(90)).toBe(a);
    expect(heap.stats).toMatchObject({ mallocs: 3, frees: 1, binHits: 1, topAllocs: 2, mmapCalls: 0 });
  });

  it('large chunks are mmapped and munmapped on free; the same size lands on the same address with new frames', () => {
    const { space, heap, memory, calls } = setup();
    const p = heap.malloc(256 * KiB);
    expect(p % PS).toBe(16);
    expect(space.mappings().some((v) => v.start === p - 16 && v.end === p - 16 + 260 * KiB)).toBe(true);
    space.fill(p, 256 * KiB, 0x5a);
    const frame = space.translate(p);
    const mapped = memory.stats.mapped;
    heap.free(p);
    expect(memory.stats.mapped).toBe(mapped - 65);
    expect(calls).toEqual(['munmap']);
    const q = heap.malloc(256 * KiB);
    expect(q).toBe(p);
    expect(space.read(q, 4)).toEqual(new Uint8Array(4)); // fresh zero pages, not the old bytes
    expect(space.translate(q)).toBeDefined();
    expect(space.translate(q)).not.toBe(frame); // same address, another frame: a pinned registration of p is now stale
    expect(heap.stats).toMatchObject({ mmapCalls: 2, munmapCalls: 1, mmappedChunks: 1 });
  });

  it('coalesces free neighbours and trims the top past the threshold, returning frames via sbrk', () => {
    const { space, heap, memory, calls } = setup();
    const ptrs = Array.from({ length: 64 }, () => heap.malloc(8 * KiB - 8)); // 8 KiB chunks, 512 KiB heap
    for (const p of ptrs) space.fill(p, 8 * KiB - 8, 1);
    const brkFull = space.brk();
    const mappedFull = memory.stats.mapped;
    // free every other one: no coalescing into the top yet, nothing trimmed
    for (let i = 0; i < 64; i += 2) heap.free(ptrs[i]!);
    expect(heap.stats).toMatchObject({ freeChunks: 32, trims: 0 }); // ptrs[63] still separates the last from the top
    for (let i = 1; i < 64; i += 2) heap.free(ptrs[i]!);
    const s = heap.stats;
    expect(s).toMatchObject({ freeChunks: 0, inUseChunks: 0, trims: 1 });
    expect(space.brk()).toBeLessThan(brkFull);
    expect(s.topBytes).toBeLessThan(128 * KiB + 64 + PS);
    // every page left below the break was touched and stays; every touched page above it went back
    const heapBase = ptrs[0]! - 16;
    const kept = Math.ceil((space.brk() - heapBase) / PS);
    expect(memory.stats.mapped).toBe(kept);
    expect(mappedFull).toBe(Math.ceil((64 * 8 * KiB) / PS) + 1); // 512 KiB of chunks starting 16 bytes in
    expect(kept).toBe(s.topBytes / PS); // everything was freed: the whole heap is top
    expect(s.topBytes).toBeGreaterThanOrEqual(128 * KiB); // topPad kept
    expect(calls).toEqual(['brk']);
  });

  it('realloc grows in place at the top, moves otherwise, and keeps the bytes', () => {
    const { space, heap } = setup();
    const a = heap.malloc(64);
    space.write(a, Uint8Array.from({ length: 64 }, (_, i) => i));
    expect(heap.realloc(a, 1000)).toBe(a); // a touches the top
    const b = heap.malloc(16);
    const a2 = heap.realloc(a, 4000);
    expect(a2).not.toBe(a);
    expect(space.read(a2, 64)).toEqual(Uint8Array.from({ length: 64 }, (_, i) => i));
    void b;
  });

  it('realloc of an mmapped chunk uses mremap and keeps contents', () => {
    const { space, heap, calls } = setup();
    const p = heap.malloc(200 * KiB);
    space.write(p, new Uint8Array(100).fill(3));
    const q = heap.realloc(p, 2 * 1024 * KiB);
    expect(calls).toEqual(['mremap']);
    expect(space.read(q, 100)).toEqual(new Uint8Array(100).fill(3));
    expect(heap.usableSize(q)).toBeGreaterThanOrEqual(2 * 1024 * KiB);
    expect(heap.stats.mremapCalls).toBe(1);
  });

  it('realloc of an mmapped chunk split by mlock falls back to malloc + copy + free (issue 20: mremap refuses with EFAULT)', () => {
    // what the pinning adapter's mlock mode does to a cached buffer: lock a page-aligned part of it
    //   [hdr|........ chunk of 65 pages ........]      one mapping
    //   [ unlocked | locked: 16 pages | unlocked ]      three mappings after mlock: mremap says EFAULT (Linux too)
    const { space, heap, memory, calls } = setup();
    const p = heap.malloc(256 * KiB);
    const bytes = Uint8Array.from({ length: 256 * KiB }, (_, i) => (i * 7 + 3) & 0xff);
    space.write(p, bytes);
    const base = p - 16;
    space.mlock(base + 8 * PS, 16 * PS);
    expect(space.mappings().filter((v) => v.start >= base && v.end <= base + 65 * PS)).toHaveLength(3);
    const q = heap.realloc(p, 1024 * KiB);
    expect(space.read(q, 256 * KiB)).toEqual(bytes);
    expect(heap.usableSize(q)).toBeGreaterThanOrEqual(1024 * KiB);
    expect(q).not.toBe(p);
    expect(heap.owns(p)).toBe(false); // the old chunk is freed...
    expect(space.mappings().some((v) => v.start < base + 65 * PS && base < v.end)).toBe(false); // ...and unmapped
    expect(space.stats.mlockedBytes).toBe(0); // its locked part went with it
    expect(calls).toEqual(['munmap']); // mremap refused before any hook; the old chunk's munmap
    expect(heap.stats).toMatchObject({ reallocs: 1, mallocs: 1, frees: 0, mremapCalls: 1, mremapFallbacks: 1, mmapCalls: 2, munmapCalls: 1, mmappedChunks: 1 });
    expect(memory.stats.mapped).toBe(65); // only the copy's pages: 256 KiB from 16 bytes into the new chunk
  });

  it('realloc of a split mmapped chunk to a size that still fits keeps the chunk (glibc: "do nothing")', () => {
    const { space, heap } = setup();
    const p = heap.malloc(256 * KiB);
    space.fill(p, 256 * KiB, 9);
    space.mlock(p - 16 + 8 * PS, PS);
    expect(heap.realloc(p, 100 * KiB)).toBe(p);
    expect(space.read(p + 256 * KiB - 1, 1)[0]).toBe(9);
    expect(heap.stats).toMatchObject({ mremapCalls: 1, mremapFallbacks: 1, munmapCalls: 0, mmapCalls: 1 });
  });

  it('calloc zeroes reused heap memory', () => {
    const { space, heap } = setup();
    const a = heap.malloc(256);
    space.fill(a, 256, 0xff);
    heap.free(a);
    const b = heap.calloc(16, 16);
    expect(b).toBe(a);
    expect(space.read(b, 256).every((x) => x === 0)).toBe(true);
  });

  it('catches double free and foreign pointers', () => {
    const { heap } = setup();
    const a = heap.malloc(10);
    heap.malloc(10);
    heap.free(a);
    expect(() => heap.free(a)).toThrow(/double free/);
    expect(() => heap.free(a + 8)).toThrow(InvalidArgument);
  });

  it('falls back to mmap when brk is blocked by a mapping', () => {
    const { space, heap } = setup();
    const base = space.brk();
    space.mmap(PS, { addr: base + PS, fixed: true });
    const p = heap.malloc(64);
    expect(p).toBeGreaterThan(base + PS);
    expect(heap.stats).toMatchObject({ mmapCalls: 1, mmappedChunks: 1 });
  });
});
