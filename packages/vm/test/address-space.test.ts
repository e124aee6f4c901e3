import { describe, expect, it } from 'vitest';
import {
  AddressSpace,
  BadAddress,
  InvalidArgument,
  MemlockLimitExceeded,
  PhysicalMemory,
  Prot,
  SegmentationFault,
} from '@tsmpi/vm';

const PS = 4096;
const setup = (opts: { frames?: number; memlockLimit?: number } = {}) => {
  const memory = new PhysicalMemory({ bytes: (opts.frames ?? 256) * PS, swapBytes: 64 * PS });
  const space = new AddressSpace(memory, { vaBytes: 64 * 1024 * 1024, memlockLimit: opts.memlockLimit ?? 8 * 1024 * 1024 });
  return { memory, space };
};
const bytes = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe('placement', () => {
  it('munmap then mmap of the same length returns the same address on different frames', () => {
    const { space } = setup();
    const a = space.mmap(4 * PS, { populate: true });
    const b = space.mmap(4 * PS, { populate: true });
    const c = space.mmap(4 * PS, { populate: true });
    expect(b).toBe(a - 4 * PS); // top-down
    expect(c).toBe(b - 4 * PS);
    const framesBefore = [0, 1, 2, 3].map((i) => space.translate(b + i * PS));
    space.write(b, bytes(4 * PS));
    space.munmap(b, 4 * PS);
    const d = space.mmap(8 * PS, { populate: true }); // does not fit the hole: goes below c
    expect(d).toBe(c - 8 * PS);
    const e = space.mmap(4 * PS, { populate: true });
    expect(e).toBe(b);
    expect(space.read(e, 16)).toEqual(new Uint8Array(16)); // fresh zeroed memory
    const framesAfter = [0, 1, 2, 3].map((i) => space.translate(e + i * PS));
    expect(framesAfter.every((f) => f !== undefined)).toBe(true);
    expect(framesAfter).not.toEqual(framesBefore);
  });

  it('partial munmap splits the VMA and frees only the middle frames', () => {
    const { space, memory } = setup();
    const a = space.mmap(8 * PS, { populate: true });
    expect(space.mappings()).toEqual([{ start: a, end: a + 8 * PS, prot: Prot.RW, locked: false, heap: false, dontfork: false }]);
    const free0 = memory.stats.free;
    space.munmap(a + 2 * PS, 3 * PS);
    expect(space.mappings().map((v) => [v.start - a, v.end - a])).toEqual([
      [0, 2 * PS],
      [5 * PS, 8 * PS],
    ]);
    expect(memory.stats.free).toBe(free0 + 3);
    expect(() => space.read(a + 3 * PS, 1)).toThrow(SegmentationFault);
    expect(space.read(a + 5 * PS, 1)).toEqual(new Uint8Array(1));
  });

  it('adjacent anonymous mappings with equal protection merge into one VMA', () => {
    const { space } = setup();
    const a = space.mmap(2 * PS);
    space.mmap(2 * PS);
    expect(space.mappings()).toHaveLength(1);
    space.mmap(PS, { prot: Prot.READ });
    expect(space.mappings()).toHaveLength(2);
    expect(space.mappings()[1]!.end).toBe(a + 2 * PS);
  });
});

describe('access', () => {
  it('writes and reads across page boundaries through demand faults', () => {
    const { space, memory } = setup();
    const a = space.mmap(3 * PS);
    expect(space.residentPages()).toBe(0);
    const data = bytes(100);
    space.write(a + PS - 50, data);
    expect(space.residentPages()).toBe(2);
    expect(space.stats.faults).toBe(2);
    expect(space.read(a + PS - 50, data.length)).toEqual(data);
    expect(memory.stats.mapped).toBe(2);
  });

  it('touching unmapped or protected memory raises SegmentationFault naming address and access', () => {
    const { space } = setup();
    const a = space.mmap(2 * PS, { prot: Prot.READ });
    expect(space.read(a, 4)).toEqual(new Uint8Array(4));
    try {
      space.write(a + PS + 3, new Uint8Array([1]));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(SegmentationFault);
      expect((err as SegmentationFault).address).toBe(a + PS);
      expect((err as SegmentationFault).access).toBe('write');
      expect((err as Error).message).toMatch(/PROT_READ forbids write/);
    }
    expect(() => space.read(a - PS, 1)).toThrow(/no mapping/);
  });

  it('runs() coalesces consecutive frames and splits elsewhere', () => {
    const { space } = setup();
    const a = space.mmap(4 * PS);
    space.write(a, new Uint8Array(2 * PS)); // frames f, f+1
    const other = space.mmap(PS, { populate: true }); // takes the next frame
    const runs = space.runs(a, 4 * PS, 'write');
    expect(runs).toHaveLength(2);
    expect(runs[0]).toEqual({ offset: space.translate(a)! * PS, length: 2 * PS });
    expect(runs[1]!.length).toBe(2 * PS);
    expect(space.translate(other)).toBe(space.translate(a)! + 2);
  });

  it('fill and overlapping copy behave like memset and memmove', () => {
    const { space } = setup();
    const a = space.mmap(2 * PS);
    space.write(a, bytes(100));
    space.copy(a + 10, a, 100);
    expect(space.read(a + 10, 100)).toEqual(bytes(100));
    space.fill(a + PS - 2, 4, 9);
    expect([...space.read(a + PS - 3, 6)]).toEqual([space.read(a + PS - 3, 1)[0], 9, 9, 9, 9, 0]);
  });
});

describe('pinning', () => {
  it('pin charges the memlock limit and throws MemlockLimitExceeded without pinning anything', () => {
    const { space, memory } = setup({ memlockLimit: 4 * PS });
    const a = space.mmap(8 * PS);
    const frames = space.pin(a, 3 * PS);
    expect(frames).toHaveLength(3);
    expect(space.lockedBytes).toBe(3 * PS);
    let err: unknown;
    try {
      space.pin(a + 3 * PS, 2 * PS);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MemlockLimitExceeded);
    expect((err as MemlockLimitExceeded).code).toBe('ENOMEM');
    expect((err as Error).message).toMatch(/limit 16384 bytes.*memlockLimit/);
    expect(memory.stats.pinned).toBe(3);
    expect(space.residentPages()).toBe(3);
    space.unpin(frames);
    expect(space.lockedBytes).toBe(0);
    expect(memory.stats.pinned).toBe(0);
  });

  it('a pinned frame survives munmap; malloc-style reuse maps new frames at the same address', () => {
    const { space, memory } = setup();
    const a = space.mmap(2 * PS);
    space.write(a, bytes(2 * PS, 5));
    const frames = space.pin(a, 2 * PS);
    space.munmap(a, 2 * PS);
    expect(memory.stats).toMatchObject({ mapped: 0, pinned: 2 });
    const b = space.mmap(2 * PS, { populate: true });
    expect(b).toBe(a);
    expect(space.translate(b)).not.toBe(frames[0]);
    // the stale pinned frames still hold the old bytes
    expect(memory.bytes.subarray(frames[0]! * PS, frames[0]! * PS + 8)).toEqual(bytes(8, 5));
    space.unpin(frames);
    expect(memory.stats.pinned).toBe(0);
  });

  it('pin of an unmapped range is EFAULT and pins nothing', () => {
    const { space, memory } = setup();
    const a = space.mmap(2 * PS);
    expect(() => space.pin(a, 3 * PS)).toThrow(BadAddress);
    expect(memory.stats.pinned).toBe(0);
    expect(space.lockedBytes).toBe(0);
  });

  it('exit leaves pinned frames to their holder; unpin after exit frees them', () => {
    const { space, memory } = setup();
    const a = space.mmap(4 * PS, { populate: true });
    const frames = space.pin(a, 2 * PS);
    space.exit();
    expect(memory.stats).toMatchObject({ mapped: 0, pinned: 2, free: 254 });
    space.unpin(frames);
    expect(memory.stats).toMatchObject({ pinned: 0, free: 256 });
    expect(() => space.mmap(PS)).toThrow(/exited/);
  });

  it('Infinity lifts the limit', () => {
    const { space } = setup({ memlockLimit: Infinity });
    const a = space.mmap(64 * PS);
    expect(space.pin(a, 64 * PS)).toHaveLength(64);
  });
});

describe('errors', () => {
  it('rejects unaligned munmap with EINVAL', () => {
    const { space } = setup();
    expect(() => space.munmap(123, PS)).toThrow(InvalidArgument);
    expect(() => space.mmap(0)).toThrow(/positive/);
  });
});
