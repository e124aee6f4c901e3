import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Status } from '@tsmpi/fabric';
import { ALL, PAGE, pair } from './fixture.js';

const PAGES = 8;
const LEN = PAGES * PAGE;

type Op =
  | { kind: 'write' | 'read'; from: number; to: number; length: number }
  | { kind: 'send'; from: number; to: number; length: number }
  | { kind: 'poke'; side: 'a' | 'b'; at: number; byte: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constantFrom('write' as const, 'read' as const, 'send' as const),
    from: fc.integer({ min: 0, max: LEN - 1 }),
    to: fc.integer({ min: 0, max: LEN - 1 }),
    length: fc.integer({ min: 0, max: 3 * PAGE }),
  }).map((o) => ({ ...o, length: Math.min(o.length, LEN - o.from, LEN - o.to) })),
  fc.record({ kind: fc.constant('poke' as const), side: fc.constantFrom('a' as const, 'b' as const),
    at: fc.integer({ min: 0, max: LEN - 1 }), byte: fc.integer({ min: 0, max: 255 }) }),
);

/*
 * Property: any sequence of RDMA writes, reads and sends at arbitrary (unaligned, page-crossing)
 * offsets leaves both buffers exactly as a plain byte-array model says, on both backends, with
 * the buffers' frames scattered (not physically contiguous).
 */
describe.each(['pinning', 'odp'] as const)('%s: DMA matches a byte-array model', (kind) => {
  it('for random sequences of operations at random offsets', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 25 }), (ops) => {
        const p = pair(kind);
        // Scatter frames: touch interleaved pages of a scratch mapping, so a and b get non-adjacent frames.
        const scratch = p.a.space.mmap(2 * LEN);
        for (let i = 0; i < 2 * PAGES; i += 2) p.a.space.fill(scratch + i * PAGE, 1, 1);
        const a = p.a.space.mmap(LEN);
        const b = p.b.space.mmap(LEN);
        for (let i = 0; i < PAGES; i++) {
          p.a.space.fill(scratch + (2 * i + 1) * PAGE, 1, 1);
          p.a.space.fill(a + i * PAGE, PAGE, i);
          p.b.space.fill(b + i * PAGE, PAGE, 100 + i);
        }
        const ma = p.a.space.read(a, LEN);
        const mb = p.b.space.read(b, LEN);
        const amr = p.a.pd.registerMemory(a, LEN, ALL);
        const bmr = p.b.pd.registerMemory(b, LEN, ALL);
        let sends = 0;
        for (const o of ops) {
          if (o.kind === 'poke') {
            (o.side === 'a' ? p.a.space : p.b.space).write((o.side === 'a' ? a : b) + o.at, Uint8Array.of(o.byte));
            (o.side === 'a' ? ma : mb)[o.at] = o.byte;
            continue;
          }
          if (o.kind === 'write') {
            p.qa.rdmaWrite({ wrId: 1, sge: { lkey: amr.lkey, addr: a + o.from, length: o.length }, remoteAddr: b + o.to, rkey: bmr.rkey });
            mb.set(ma.slice(o.from, o.from + o.length), o.to);
          } else if (o.kind === 'read') {
            p.qa.rdmaRead({ wrId: 2, sge: { lkey: amr.lkey, addr: a + o.to, length: o.length }, remoteAddr: b + o.from, rkey: bmr.rkey });
            ma.set(mb.slice(o.from, o.from + o.length), o.to);
          } else {
            p.qb.postRecv({ wrId: 3, sge: { lkey: bmr.lkey, addr: b + o.to, length: o.length } });
            p.qa.postSend({ wrId: 4, sge: { lkey: amr.lkey, addr: a + o.from, length: o.length } });
            mb.set(ma.slice(o.from, o.from + o.length), o.to);
            sends++;
            const [r] = p.b.cq.poll();
            if (r?.status !== Status.SUCCESS || r.byteLength !== o.length) return false;
          }
          const [c] = p.a.cq.poll();
          if (c?.status !== Status.SUCCESS || c.byteLength !== o.length) return false;
        }
        // first differing byte (-1: none); toEqual on 32 KiB typed arrays is slow
        expect(firstDifference(p.a.space.read(a, LEN), ma)).toBe(-1);
        expect(firstDifference(p.b.space.read(b, LEN), mb)).toBe(-1);
        expect(p.b.pd.stats.recvOps).toBe(sends);
        return true;
      }),
      { numRuns: 40 },
    );
  });
});

function firstDifference(x: Uint8Array, y: Uint8Array): number {
  if (x.length !== y.length) return Math.min(x.length, y.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}
