import { describe, expect, it } from 'vitest';
import { ControlBlock } from '../src/launcher/control-block.js';

describe('control block: ranks asleep in a wait', () => {
  it('counts the ranks awake as ranks sleep and wake, from any attached copy', () => {
    const a = ControlBlock.create(8);
    const b = ControlBlock.attach(a.handle); // another rank's view of the same block
    expect(a.awake).toBe(8);
    for (let i = 0; i < 6; i++) b.sleeping(1);
    expect(a.awake).toBe(2);
    a.sleeping(-1);
    expect(b.awake).toBe(3);
    for (let i = 0; i < 5; i++) a.sleeping(-1);
    expect(a.awake).toBe(8);
  });

  it('keeps the counter apart from the rank slots and the header words the launcher reads', () => {
    const c = ControlBlock.create(2);
    c.sleeping(1);
    c.wakeStallMs = 7;
    c.noteActivity();
    expect(c.wakeStallMs).toBe(7);
    expect(c.activity).toBe(1);
    expect(c.aborted).toBe(false);
    expect(c.state(0)).toBe(0);
    expect(c.awake).toBe(1);
  });
});
