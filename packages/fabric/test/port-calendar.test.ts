import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PORT_BYTES, PORT_INTERVALS, PORT_RX, PORT_TX, Port } from '../src/shared/port.js';

/*
 * The port calendar keeps a list of its smallest gaps so a full calendar need not scan every gap
 * on each merge. This checks it against the plain rule, written here on ordinary arrays: earliest
 * gap at or after ready; a new interval coalesces with neighbours closer than 1e-6 µs; over
 * PORT_INTERVALS, the pair with the smallest gap (earliest on a tie) merges.
 */
class ReferenceCalendar {
  readonly iv: [number, number][] = [];
  merged = 0;
  backfilled = 0;
  waited = 0;

  reserve(ready: number, duration: number): number {
    const iv = this.iv;
    let begin = ready;
    let i = 0;
    while (i < iv.length && iv[i]![1] <= begin) i++;
    for (; i < iv.length; i++) {
      const [s, e] = iv[i]!;
      if (s >= begin + duration && !(duration === 0 && s === begin)) break;
      if (e > begin) begin = e;
    }
    if (begin - ready > 1e-6) this.waited++;
    if (i < iv.length) this.backfilled++;
    if (duration > 0) this.insert(i, begin, begin + duration);
    return begin;
  }

  private insert(i: number, s: number, e: number): void {
    const iv = this.iv;
    const joinsPrev = i > 0 && s - iv[i - 1]![1] < 1e-6;
    const joinsNext = i < iv.length && iv[i]![0] - e < 1e-6;
    if (joinsPrev && joinsNext) {
      iv[i - 1]![1] = iv[i]![1];
      iv.splice(i, 1);
      return;
    }
    if (joinsPrev) {
      iv[i - 1]![1] = Math.max(e, iv[i - 1]![1]);
      return;
    }
    if (joinsNext) {
      iv[i]![0] = s;
      return;
    }
    iv.splice(i, 0, [s, e]);
    if (iv.length > PORT_INTERVALS) {
      let best = 0;
      for (let k = 1; k + 1 < iv.length; k++) {
        if (iv[k + 1]![0] - iv[k]![1] < iv[best + 1]![0] - iv[best]![1]) best = k;
      }
      iv[best]![1] = iv[best + 1]![1];
      iv.splice(best + 1, 1);
      this.merged++;
    }
  }
}

interface Step {
  dir: 0 | 1;
  /** How ready relates to the poster's last end: ahead by, or (negative) back into the past by. */
  delta: number;
  duration: number;
}

const step: fc.Arbitrary<Step> = fc.record({
  dir: fc.constantFrom(PORT_TX, PORT_RX),
  delta: fc.oneof(
    { arbitrary: fc.integer({ min: 1, max: 8 }).map((x) => x * 0.25), weight: 5 },
    { arbitrary: fc.constant(0), weight: 1 },
    { arbitrary: fc.double({ min: 0.01, max: 2, noNaN: true }), weight: 3 },
    { arbitrary: fc.double({ min: -40, max: 0, noNaN: true }), weight: 1 },
  ),
  duration: fc.oneof(
    { arbitrary: fc.constant(0), weight: 1 },
    { arbitrary: fc.constantFrom(0.125, 0.25), weight: 3 },
    { arbitrary: fc.double({ min: 1e-4, max: 1, noNaN: true }), weight: 3 },
  ),
});

function run(steps: Step[], posters: number) {
  const port = new Port(new SharedArrayBuffer(PORT_BYTES));
  const ref = [new ReferenceCalendar(), new ReferenceCalendar()];
  const last = new Array<number>(posters).fill(0);
  const begins: number[] = [];
  const expected: number[] = [];
  steps.forEach((s, k) => {
    const who = k % posters;
    const ready = Math.max(0, last[who]! + s.delta);
    const begin = port.reserve(s.dir, ready, s.duration);
    begins.push(begin);
    expected.push(ref[s.dir]!.reserve(ready, s.duration));
    last[who] = begin + s.duration;
  });
  return { port, ref, begins, expected };
}

describe('port calendar', () => {
  it('places every reservation where the plain smallest-gap rule does, through thousands of merges', () => {
    let merges = 0;
    let backfills = 0;
    fc.assert(
      fc.property(fc.array(step, { minLength: 300, maxLength: 1500 }), fc.integer({ min: 1, max: 4 }), (steps, posters) => {
        const { port, ref, begins, expected } = run(steps, posters);
        expect(begins).toEqual(expected);
        const st = port.stats;
        expect([st.transmit.merged, st.receive.merged]).toEqual([ref[0]!.merged, ref[1]!.merged]);
        expect([st.transmit.backfilled, st.receive.backfilled]).toEqual([ref[0]!.backfilled, ref[1]!.backfilled]);
        expect([st.transmit.waited, st.receive.waited]).toEqual([ref[0]!.waited, ref[1]!.waited]);
        merges += st.transmit.merged + st.receive.merged;
        backfills += st.transmit.backfilled + st.receive.backfilled;
      }),
      { numRuns: 60, seed: 20261121 },
    );
    // the runs exercised what the list is for: full calendars, and insertions before the end
    expect(merges).toBeGreaterThan(2000);
    expect(backfills).toBeGreaterThan(1000);
  });

  it('a stream of spaced transfers fills the calendar and then merges once per transfer', () => {
    const steps: Step[] = Array.from({ length: 1000 }, () => ({ dir: PORT_TX, delta: 0.5, duration: 0.25 }));
    const { port, ref, begins, expected } = run(steps, 1);
    expect(begins).toEqual(expected);
    expect(port.stats.transmit.merged).toBe(1000 - PORT_INTERVALS);
    expect(ref[0]!.merged).toBe(1000 - PORT_INTERVALS);
    expect(port.stats.transmit.reservations).toBe(1000);
  });
});
