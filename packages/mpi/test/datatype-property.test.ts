/**
 * Properties of derived datatypes (fast-check), against an oracle that lays types out from MPI's
 * definitions byte by byte (programs/datatype-oracle.ts): the typemap engine agrees with it; pack
 * then unpack is the identity on the typemap's bytes and writes nothing else; and between ranks a
 * non-contiguous send delivers exactly the typemap's bytes, leaving the gaps untouched, under both
 * protocol choices (--noncontig pack and sge), on one node and on two.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runJob } from '../src/index.js';
import { normalizeSpec } from '../src/datatype/buffer-spec.js';
import { packInto, unpackFrom } from '../src/datatype/pack.js';
import { TypedBuffer, type BufferMemory, type TypedArrayCtor } from '../src/typed-buffer.js';
import { build, bytesOf, descArb, layout, spanOf } from './programs/datatype-oracle.js';

/** A flat byte memory standing in for a rank's (pack and unpack only read and write through it). */
function memory(bytes: number): BufferMemory & { raw: Uint8Array } {
  const raw = new Uint8Array(bytes);
  return {
    raw,
    read: (addr, length) => raw.slice(addr, addr + length),
    write: (addr, data) => raw.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), addr),
    free: () => {},
    window: () => undefined,
  };
}

describe('derived datatypes, properties', () => {
  it('size, bounds and byte order agree with the oracle', () => {
    fc.assert(fc.property(descArb, fc.integer({ min: 1, max: 5 }), (desc, count) => {
      const t = build(desc);
      const l = layout(desc);
      expect({ lb: t.lb, ub: t.ub, size: t.size }).toEqual({ lb: l.lb, ub: l.ub, size: l.bytes.length });
      const flat = t.flatten(count).flatMap((s) => Array.from({ length: s.length }, (_, i) => s.offset + i));
      expect(flat).toEqual(bytesOf(desc, count));
    }), { numRuns: 300, seed: 19 });
  });

  it('pack then unpack is the identity on the typemap bytes and leaves every other byte alone', () => {
    fc.assert(fc.property(descArb, fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 255 }), (desc, count, salt) => {
      const bytes = bytesOf(desc, count);
      const span = spanOf(bytes);
      const src = memory(span);
      src.raw.set(Uint8Array.from({ length: span }, (_, k) => (k + salt) % 256));
      const dst = memory(span);
      dst.raw.fill(0xee);
      const t = build(desc).commit();
      const spec = (m: BufferMemory) => normalizeSpec([new TypedBuffer(m, Uint8Array as unknown as TypedArrayCtor, 0, span, false), count, t], 'test', (b) => b);
      const packed = new Uint8Array(t.size * count);
      expect(packInto(spec(src), packed)).toBe(bytes.length);
      expect([...packed]).toEqual(bytes.map((b) => (b + salt) % 256));
      unpackFrom(spec(dst), packed);
      const inMap = new Set(bytes);
      const want = Uint8Array.from({ length: span }, (_, k) => (inMap.has(k) ? src.raw[k]! : 0xee));
      expect(dst.raw).toEqual(want);
      // and back: packing what was unpacked gives the same bytes
      const again = new Uint8Array(packed.length);
      packInto(spec(dst), again);
      expect(again).toEqual(packed);
    }), { numRuns: 200, seed: 23 });
  });

  for (const noncontig of ['pack', 'sge'] as const) {
    for (const nodes of [1, 2]) {
      it(`a non-contiguous send delivers exactly the typemap's bytes, gaps untouched (--noncontig ${noncontig}, ${nodes} node(s))`, async () => {
        const r = await runJob({ np: 2, nodes, noncontig, eagerThreshold: 4096, program: new URL('./programs/datatype-property.ts', import.meta.url), args: ['7'] });
        expect(r.error).toBeUndefined();
        const [s, d] = r.ranks.map((x) => x.value as { wrong: string[]; sent: number; packedSends: number; sgeSends: number; sgeSegments: number });
        expect(d!.wrong).toEqual([]);
        expect(s!.sent).toBeGreaterThan(0);
        // the protocol the mode names carried the large non-contiguous sends (small ones pack in either mode)
        if (noncontig === 'sge') {
          expect(s!.sgeSends).toBeGreaterThan(0);
          expect(d!.sgeSegments).toBeGreaterThanOrEqual(s!.sgeSends);
        } else {
          expect(s!.sgeSends).toBe(0);
          expect(s!.packedSends).toBeGreaterThan(0);
        }
      }, 300_000);
    }
  }
});
