import { describe, expect, it } from 'vitest';
import { AddressSpace, InvalidArgument, PhysicalMemory, Prot, SegmentationFault, StaleView } from '@tsmpi/vm';

const PS = 4096;
const setup = () => {
  const memory = new PhysicalMemory({ bytes: 256 * PS, swapBytes: 16 * PS });
  const space = new AddressSpace(memory, { vaBytes: 64 * 1024 * 1024 });
  return { memory, space };
};

describe('MappedView', () => {
  it('is zero-copy over consecutive frames: writes through bytes are seen by read()', () => {
    const { space } = setup();
    const a = space.mmap(2 * PS);
    const v = space.view(a + 100, PS, 'write');
    expect(v.contiguous).toBe(true);
    v.bytes.fill(9);
    expect(space.read(a + 100, PS).every((x) => x === 9)).toBe(true);
    expect(v.bytes.buffer).toBe(space.memory.bytes.buffer);
  });

  it('throws StaleView after munmap + mmap of its range, never reading the old frames', () => {
    const { space } = setup();
    const a = space.mmap(2 * PS);
    const v = space.view(a, 2 * PS, 'read');
    space.munmap(a, 2 * PS);
    expect(space.mmap(2 * PS, { populate: true })).toBe(a);
    expect(() => v.bytes).toThrow(StaleView);
    expect(v.valid).toBe(false);
    expect(v.refresh().bytes.length).toBe(2 * PS);
  });

  it('survives changes elsewhere in the address space', () => {
    const { space } = setup();
    const a = space.mmap(PS, { populate: true });
    const b = space.mmap(PS, { populate: true });
    const v = space.view(a, PS, 'write');
    space.munmap(b, PS);
    expect(v.valid).toBe(true);
    v.write(new Uint8Array([1, 2, 3]));
    expect(space.read(a, 3)).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('goes stale on migration, reclaim and protection loss; refresh follows migration', () => {
    const { space } = setup();
    const a = space.mmap(PS);
    space.write(a, new Uint8Array([42]));
    const v = space.view(a, PS, 'write');
    space.migrate(a, PS);
    expect(() => v.read()).toThrow(StaleView);
    expect(v.refresh().bytes[0]).toBe(42);
    space.reclaim(a, PS);
    expect(v.valid).toBe(false);
    expect(v.refresh().bytes[0]).toBe(42);
    space.mprotect(a, PS, Prot.READ);
    expect(() => v.bytes).toThrow(/no longer allows write/);
    expect(() => v.refresh()).toThrow(SegmentationFault);
  });

  it('over scattered frames it copies through the page table and refuses bytes', () => {
    const { space } = setup();
    const a = space.mmap(2 * PS);
    space.write(a + PS, new Uint8Array([5])); // second page first: frames out of order
    space.write(a, new Uint8Array([6]));
    const v = space.view(a, 2 * PS, 'write');
    expect(v.contiguous).toBe(false);
    expect(() => v.bytes).toThrow(InvalidArgument);
    const r = v.read();
    expect([r[0], r[PS]]).toEqual([6, 5]);
  });
});
