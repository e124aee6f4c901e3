import { describe, expect, it } from 'vitest';
import { AddressSpace, OutOfMemory, PhysicalMemory } from '@tsmpi/vm';

const PAGE = 4096;

/** Physically consecutive stretches in a list of frames. */
function pieces(frames: number[]): number {
  let n = 0;
  for (let i = 0; i < frames.length; i++) if (i === 0 || frames[i] !== frames[i - 1]! + 1) n++;
  return n;
}

describe('frame runs', () => {
  it('gives two threads that fault in turn one physical run each, not alternate frames', () => {
    const a = new PhysicalMemory({ bytes: 1024 * PAGE, swapBytes: 0 });
    const b = PhysicalMemory.attach(a.handle); // another thread's view of the same node
    const fa: number[] = [];
    const fb: number[] = [];
    for (let i = 0; i < 256; i++) {
      fa.push(a.allocFrame());
      fb.push(b.allocFrame());
    }
    expect(pieces(fa)).toBe(1);
    expect(pieces(fb)).toBe(1);
    expect(new Set([...fa, ...fb]).size).toBe(512);
    expect(a.stats).toMatchObject({ frames: 1024, free: 512, mapped: 512, allocs: 512 });
  });

  it('lays a buffer that two ranks touch at once on a few long runs', () => {
    const memory = new PhysicalMemory({ bytes: 64 * 1024 * 1024, swapBytes: 0 });
    const s0 = new AddressSpace(memory);
    const s1 = new AddressSpace(PhysicalMemory.attach(memory.handle));
    const mib = 1024 * 1024;
    const b0 = s0.mmap(mib);
    const b1 = s1.mmap(mib);
    for (let off = 0; off < mib; off += PAGE) {
      s0.write(b0 + off, Uint8Array.of(1));
      s1.write(b1 + off, Uint8Array.of(2));
    }
    expect(s0.runs(b0, mib, 'read')).toHaveLength(1);
    expect(s1.runs(b1, mib, 'read')).toHaveLength(1);
  });

  it('runs out of memory only when every frame is in use, taking frames other threads reserved', () => {
    const a = new PhysicalMemory({ bytes: 8 * PAGE, swapBytes: 0 });
    const b = PhysicalMemory.attach(a.handle);
    expect(a.allocFrame()).toBe(0); // a's run now reserves frame 1 (a quarter of the queue)
    const fromB = Array.from({ length: 7 }, () => b.allocFrame());
    expect(fromB.sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(a.stats.free).toBe(0);
    expect(() => a.allocFrame()).toThrow(OutOfMemory);
    expect(() => b.allocFrame()).toThrow(OutOfMemory);
  });

  it('reuses a freed frame only after every other free frame (the queue stays FIFO)', () => {
    const m = new PhysicalMemory({ bytes: 8 * PAGE, swapBytes: 0 });
    const first = m.allocFrame();
    m.putFrame(first);
    const next = Array.from({ length: 7 }, () => m.allocFrame());
    expect(next).not.toContain(first);
    expect(m.allocFrame()).toBe(first);
  });
});
