import { describe, expect, it } from 'vitest';
import { runJob } from '../src/index.js';
import { EagerFrames } from '../src/p2p/eager-frames.js';
import { ENVELOPE_BYTES } from '../src/p2p/envelope.js';

describe('eager frames: reused, never shared by two sends at once', () => {
  it('a frame taken while another is out is a different frame; a frame given back serves the next send', () => {
    const frames = new EagerFrames(1024);
    const a = frames.take(100);
    a.payload.fill(0xaa);
    const b = frames.take(8); // a nested send while `a` waits for a slot
    expect(b.room).not.toBe(a.room);
    b.payload.fill(0xbb);
    expect(a.payload.every((x) => x === 0xaa)).toBe(true);
    expect([a.bytes.length, b.bytes.length, b.payload.length]).toEqual([ENVELOPE_BYTES + 100, ENVELOPE_BYTES + 8, 8]);
    expect([frames.size, frames.taken]).toEqual([2, 2]);
    frames.give(b);
    frames.give(a);
    const c = frames.take(100);
    const d = frames.take(100);
    expect([c.room, d.room]).toEqual(expect.arrayContaining([a.room, b.room]));
    expect(c.bytes).toBe(a.bytes); // same length again: the view is kept, not made anew
    expect([frames.size, frames.taken]).toEqual([2, 2]);
  });

  it('a send waiting for a bounce slot while nonblocking barriers and allreduces run their rounds: every byte and every sum right', async () => {
    const n = 300;
    const r = await runJob({ np: 4, timing: 'fast', program: new URL('./programs/eager-nested.ts', import.meta.url), args: [String(n), '200'] });
    expect(r.error).toBeUndefined();
    for (const x of r.ranks) expect(x.value).toMatchObject({ bad: 0, wrongSums: 0 });
  });
});
