import { describe, expect, it } from 'vitest';
import { Horizon, TimingMode } from '../src/timing/horizon.js';

/** `n` ranks' views of one horizon (no completion queues: watermarks are Infinity). */
function views(n: number): Horizon[] {
  const handle = Horizon.create(n);
  return Array.from({ length: n }, () => Horizon.attach(handle, () => Infinity));
}

describe('Horizon: who a held-back rank watches, and which publications wake it', () => {
  it('a rank behind several at one virtual time watches the nearest of them, the last to move past it', () => {
    const h = views(6);
    // ranks 0..4 all RUNNING at 10 (rank order decides ties), rank 5 asks to act at 10
    for (let r = 0; r < 5; r++) h[r]!.publish(r, TimingMode.RUNNING, 10, Infinity);
    h[5]!.publish(5, TimingMode.RUNNING, 10, Infinity);
    expect(h[5]!.safe(5, 10)).toBe(false);
    expect(h[5]!.holdingBack).toBe(4);
    expect(h[5]!.laggard(5).rank).toBe(0); // the smallest bound, for reports
    // ranks 0..3 move on: still held back by 4, found without a scan of every row
    for (let r = 0; r < 4; r++) h[r]!.publish(r, TimingMode.BLOCKED, 10, 20);
    expect(h[5]!.safe(5, 10)).toBe(false);
    expect(h[5]!.holdingBack).toBe(4);
    h[4]!.publish(4, TimingMode.BLOCKED, 10, 20);
    expect(h[5]!.safe(5, 10)).toBe(true);
    expect(h[5]!.holdingBack).toBe(-1);
  });

  it('an event check (with lookahead) watches the nearest rank at or below t − lookahead', () => {
    const h = views(4);
    h[0]!.publish(0, TimingMode.RUNNING, 3, Infinity);
    h[1]!.publish(1, TimingMode.RUNNING, 7, Infinity);
    h[2]!.publish(2, TimingMode.RUNNING, 9, Infinity);
    expect(h[3]!.safeForEvents(3, 10, 2)).toBe(false); // 8: ranks 0 (3) and 1 (7) are not past it
    expect(h[3]!.holdingBack).toBe(1);
    h[1]!.publish(1, TimingMode.RUNNING, 8.5, Infinity);
    expect(h[3]!.safeForEvents(3, 10, 2)).toBe(false);
    expect(h[3]!.holdingBack).toBe(0);
  });

  it('a finished rank holds nobody back, even with completions left in its queue (a low watermark)', () => {
    const handle = Horizon.create(2);
    const h = Horizon.attach(handle, () => 5); // rank 1's queue holds a completion at 5 it will never drain
    h.setCompletionQueue(1, 0);
    h.publish(1, TimingMode.FINISHED, Infinity, Infinity);
    expect(h.bound(1)).toBe(Infinity);
    expect(h.safe(0, 10)).toBe(true);
  });

  it('a publication moves the row epoch (and wakes its sleepers) only when it raises the bound', () => {
    const h = views(2);
    const e0 = h[1]!.epochOf(0);
    h[0]!.publish(0, TimingMode.RUNNING, 5, Infinity);
    expect(h[1]!.epochOf(0)).toBe(e0 + 1);
    h[0]!.publish(0, TimingMode.RUNNING, 5, 9); // the same bound, 5: frees nobody
    h[0]!.publish(0, TimingMode.BLOCKED, 5, 4); // lower: frees nobody
    expect(h[1]!.epochOf(0)).toBe(e0 + 1);
    expect(h[1]!.bound(0)).toBe(4);
    h[0]!.publish(0, TimingMode.BLOCKED, 5, 12);
    expect(h[1]!.epochOf(0)).toBe(e0 + 2);
    h[0]!.publish(0, TimingMode.FINISHED, 5, 12);
    expect(h[1]!.epochOf(0)).toBe(e0 + 3);
    expect(h[1]!.bound(0)).toBe(Infinity);
  });
});

describe('Horizon: a held-back rank that nothing wakes', () => {
  it('sleeps in slices that double while the row it watches stays unchanged, and start short again once it moves', () => {
    const [h0, h1] = views(2);
    const seen = h1.epochOf(0);
    const slices: number[] = [];
    for (let i = 0; i < 7; i++) {
      h1.sleepOn(0, seen, 1);
      slices.push(h1.lastSliceMs);
    }
    expect(slices).toEqual([1, 2, 4, 8, 16, 16, 16]);
    h0!.publish(0, TimingMode.BLOCKED, 0, 5); // raises rank 0's bound: its epoch moves
    h1.sleepOn(0, seen, 1); // not-equal: returns at once
    h1.sleepOn(0, h1.epochOf(0), 1);
    expect(h1.lastSliceMs).toBe(1);
  });
});
