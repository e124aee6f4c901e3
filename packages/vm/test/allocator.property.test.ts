/**
 * Random malloc / calloc / realloc / free sequences: live blocks never overlap, keep their bytes
 * (each block is stamped with its own pattern and checked before every free and after every
 * realloc), and freeing everything gives the pages back (mmapped chunks unmapped, heap top trimmed).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Allocator, AddressSpace, PhysicalMemory } from '@tsmpi/vm';

const PS = 4096;
type Op = { k: 'malloc' | 'calloc'; size: number } | { k: 'free'; which: number } | { k: 'realloc'; which: number; size: number };
const size = fc.oneof(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 1000, max: 40_000 }), fc.integer({ min: 120_000, max: 300_000 }));
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constantFrom('malloc' as const, 'calloc' as const), size }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('free' as const), which: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('realloc' as const), which: fc.nat(), size }) },
);

const stamp = (id: number, n: number) => Uint8Array.from({ length: Math.min(n, 64) }, (_, i) => (id * 13 + i) & 0xff);

function run(ops: Op[]): void {
  const memory = new PhysicalMemory({ bytes: 2048 * PS, swapBytes: 0 });
  const space = new AddressSpace(memory, { vaBytes: 256 * 1024 * 1024 });
  const heap = new Allocator(space);
  const live = new Map<number, { size: number; id: number }>();
  let nextId = 1;
  const check = (ptr: number) => {
    const b = live.get(ptr)!;
    const n = Math.min(b.size, 64);
    expect(space.read(ptr, n)).toEqual(stamp(b.id, b.size));
    if (b.size > 64) expect(space.read(ptr + b.size - 1, 1)[0]).toBe(b.id & 0xff);
  };
  const put = (ptr: number, n: number) => {
    const id = nextId++;
    live.set(ptr, { size: n, id });
    if (n > 0) space.write(ptr, stamp(id, n));
    if (n > 64) space.write(ptr + n - 1, new Uint8Array([id & 0xff]));
  };
  for (const o of ops) {
    if (o.k === 'malloc' || o.k === 'calloc') {
      const p = o.k === 'malloc' ? heap.malloc(o.size) : heap.calloc(1, o.size);
      expect(p % 16).toBe(0);
      expect(heap.usableSize(p)).toBeGreaterThanOrEqual(o.size);
      if (o.k === 'calloc' && o.size > 0) expect(space.read(p, Math.min(o.size, 256)).every((x) => x === 0)).toBe(true);
      for (const [q, b] of live) expect(p + Math.max(o.size, 1) <= q || q + Math.max(b.size, 1) <= p).toBe(true);
      put(p, o.size);
    } else if (live.size > 0 && (o.k === 'free' || o.k === 'realloc')) {
      const ptrs = [...live.keys()];
      const p = ptrs[o.which % ptrs.length]!;
      check(p);
      const old = live.get(p)!;
      live.delete(p);
      if (o.k === 'free') {
        heap.free(p);
      } else {
        const q = heap.realloc(p, o.size);
        if (o.size === 0) continue;
        const keep = Math.min(old.size, o.size, 64);
        expect(space.read(q, keep)).toEqual(stamp(old.id, old.size).subarray(0, keep));
        put(q, o.size);
      }
    }
  }
  for (const p of live.keys()) {
    check(p);
    heap.free(p);
  }
  const s = heap.stats;
  expect(s).toMatchObject({ inUseChunks: 0, freeChunks: 0, mmappedChunks: 0 });
  expect(s.topBytes).toBeLessThan(128 * 1024 + 32 + PS + PS); // trimmed down to about topPad
  expect(memory.stats.mapped).toBe(space.residentPages());
  expect(space.residentPages()).toBeLessThanOrEqual(Math.ceil(s.heapBytes / PS));
}

describe('Allocator against random call sequences', () => {
  it('keeps blocks disjoint and intact and gives memory back when all is freed', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => run(ops)), { numRuns: 100 });
  });
});
