/**
 * The AVL interval index against a plain array model, on random insert/remove sequences (fast-check).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { IntervalIndex } from '@tsmpi/rcache';

interface Iv {
  start: number;
  end: number;
}

describe('interval index', () => {
  it('find and overlapping agree with a linear scan, and the tree stays AVL-shallow', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('insert' as const), slot: fc.nat(199), len: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ kind: fc.constant('remove' as const), slot: fc.nat(199) }),
      fc.record({ kind: fc.constant('query' as const), at: fc.nat(1000), len: fc.integer({ min: 1, max: 12 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const index = new IntervalIndex<Iv>();
        const model: Iv[] = [];
        for (const o of ops) {
          if (o.kind === 'insert') {
            const iv = { start: o.slot * 5, end: o.slot * 5 + o.len };
            if (model.some((m) => m.start < iv.end && iv.start < m.end)) continue; // keep the non-overlap invariant
            index.insert(iv);
            model.push(iv);
          } else if (o.kind === 'remove') {
            const victim = model.find((m) => m.start === o.slot * 5);
            if (victim === undefined) {
              expect(index.remove({ start: o.slot * 5, end: o.slot * 5 + 1 })).toBe(false);
              continue;
            }
            expect(index.remove(victim)).toBe(true);
            model.splice(model.indexOf(victim), 1);
          } else {
            const expectFind = model.find((m) => m.start <= o.at && o.at < m.end);
            expect(index.find(o.at)).toBe(expectFind);
            const s = o.at;
            const e = o.at + o.len;
            const sorted = [...model].sort((x, y) => x.start - y.start);
            expect(index.overlapping(s, e)).toEqual(sorted.filter((m) => m.start < e && s < m.end));
            expect(index.overlapping(s, e, true)).toEqual(sorted.filter((m) => m.start <= e && s <= m.end));
          }
        }
        expect(index.size).toBe(model.length);
        expect(index.values()).toEqual([...model].sort((x, y) => x.start - y.start));
        expect(index.height).toBeLessThanOrEqual(Math.ceil(1.45 * Math.log2(model.length + 2)));
      }),
      { numRuns: 300 },
    );
  });

  it('stays logarithmic at 10^5 sequential inserts (the worst case for an unbalanced tree)', () => {
    const index = new IntervalIndex<Iv>();
    for (let i = 0; i < 100_000; i++) index.insert({ start: i * 2, end: i * 2 + 1 });
    expect(index.height).toBeLessThanOrEqual(Math.ceil(1.45 * Math.log2(100_002)));
    expect(index.find(2 * 77_777)?.start).toBe(2 * 77_777);
    expect(index.find(2 * 77_777 + 1)).toBeUndefined();
  });
});
