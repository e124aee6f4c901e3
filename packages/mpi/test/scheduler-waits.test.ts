import { describe, expect, it } from 'vitest';
import { Horizon, TimingMode } from '../src/timing/horizon.js';
import { Scheduler } from '../src/p2p/scheduler.js';

/** Two ranks' schedulers over one horizon (no completion queues: watermarks are Infinity). */
function pair() {
  const handle = Horizon.create(2);
  const [h0, h1] = [Horizon.attach(handle, () => Infinity), Horizon.attach(handle, () => Infinity)];
  return { s0: new Scheduler(0, h0, () => Infinity), s1: new Scheduler(1, h1, () => Infinity), h0 };
}

describe('Scheduler: what a waiting rank sleeps on', () => {
  it('a post that another rank can still precede waits in the timeline and holds the rank back up to its time', () => {
    const { s0, s1 } = pair();
    s1.enter(TimingMode.RUNNING, 2); // rank 1 may still act at 2
    let ran = 0;
    s0.at(5, () => ran++);
    expect(ran).toBe(0);
    expect(s0.heldBack(Infinity)).toBe(true);
    expect(s0.heldBack(4)).toBe(false);
    s1.enter(TimingMode.BLOCKED, 2); // nothing pending: rank 1 acts again only on an event
    expect(s0.advance(Infinity)).toBe('ran');
    expect(ran).toBe(1);
    expect(s0.heldBack(4)).toBe(false);
  });
});
