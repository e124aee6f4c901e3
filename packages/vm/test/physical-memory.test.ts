import { describe, expect, it } from 'vitest';
import { OutOfMemory, PhysicalMemory } from '@tsmpi/vm';

describe('PhysicalMemory', () => {
  it('hands out zeroed frames until none is left, then throws OutOfMemory', () => {
    const m = new PhysicalMemory({ bytes: 4 * 4096, swapBytes: 0 });
    const got = [m.allocFrame(), m.allocFrame(), m.allocFrame(), m.allocFrame()];
    expect(got).toEqual([0, 1, 2, 3]);
    expect(() => m.allocFrame()).toThrow(OutOfMemory);
    m.bytes.fill(7, 4096, 8192);
    m.putFrame(1);
    expect(m.stats).toMatchObject({ frames: 4, free: 1, mapped: 3, allocs: 4, frees: 1 });
    expect(m.allocFrame()).toBe(1);
    expect(m.bytes.subarray(4096, 8192).every((b) => b === 0)).toBe(true);
  });

  it('frees a frame only when its map count and pin count both reach zero', () => {
    const m = new PhysicalMemory({ bytes: 8 * 4096 });
    const f = m.allocFrame();
    m.pinFrame(f);
    m.putFrame(f); // the mapping goes, the pin keeps the frame
    expect(m.mapCount(f)).toBe(0);
    expect(m.pinCount(f)).toBe(1);
    expect(m.stats).toMatchObject({ free: 7, mapped: 0, pinned: 1 });
    m.unpinFrame(f);
    expect(m.stats).toMatchObject({ free: 8, mapped: 0, pinned: 0, frees: 1 });
    expect(() => m.unpinFrame(f)).toThrow(/not pinned/);
    expect(m.tryPinFrame(f)).toBe(false);
  });

  it('re-opens from its handle and sees the same frames and counters', () => {
    const m = new PhysicalMemory({ bytes: 8 * 4096 });
    const f = m.allocFrame();
    m.bytes[f * 4096 + 5] = 42;
    const other = PhysicalMemory.attach(structuredClone(m.handle));
    expect(other.bytes[f * 4096 + 5]).toBe(42);
    expect(other.mapCount(f)).toBe(1);
    other.putFrame(f);
    expect(m.stats.free).toBe(8);
  });

  it('keeps a swap area with a slot allocator', () => {
    const m = new PhysicalMemory({ bytes: 4 * 4096, swapBytes: 2 * 4096 });
    const a = m.allocSwapSlot();
    const b = m.allocSwapSlot();
    expect(m.allocSwapSlot()).toBe(-1);
    expect(m.stats.swapped).toBe(2);
    m.freeSwapSlot(a);
    m.freeSwapSlot(b);
    expect(m.stats.swapped).toBe(0);
  });
});
