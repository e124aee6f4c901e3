/**
 * The reduction operators alone, on plain typed arrays: wrap-around of every integer width,
 * exact 32-bit and 64-bit products, NaN and ±0 symmetry of MIN/MAX, MAXLOC/MINLOC ties,
 * the object forms, and typed errors for the combinations MPI does not define. The property
 * that allreduce's bit-identical results rest on — swapping the operands of an op never
 * changes the bits — is checked with fast-check for every op and element type.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  BAND, BOR, BXOR, LAND, LOR, MAX, MAXLOC, MIN, MINLOC, PROD, SUM, type ReduceOp,
} from '@tsmpi/mpi';

const ctors = [
  Int8Array, Uint8Array, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
] as const;
type Ctor = (typeof ctors)[number];

function run(op: ReduceOp, type: Ctor, left: ArrayLike<number | bigint>, right: ArrayLike<number | bigint>) {
  const l = new (type as any)(left);
  const r = new (type as any)(right);
  const out = new (type as any)(l.length);
  op.apply(out, l, r);
  return out;
}

const bytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

describe('SUM and PROD wrap like the C integer types', () => {
  it('SUM wraps at every integer width and adds floats', () => {
    expect([...run(SUM, Int8Array, [127, -128], [1, -1])]).toEqual([-128, 127]);
    expect([...run(SUM, Uint8Array, [255], [2])]).toEqual([1]);
    expect([...run(SUM, Int16Array, [32767], [1])]).toEqual([-32768]);
    expect([...run(SUM, Uint32Array, [0xffffffff], [2])]).toEqual([1]);
    expect([...run(SUM, BigInt64Array, [2n ** 63n - 1n], [1n])]).toEqual([-(2n ** 63n)]);
    expect([...run(SUM, BigUint64Array, [2n ** 64n - 1n], [3n])]).toEqual([2n]);
    expect([...run(SUM, Float64Array, [0.1], [0.2])]).toEqual([0.1 + 0.2]);
  });

  it('PROD of 32-bit integers keeps the low 32 bits exactly (a double product would lose them)', () => {
    const a = 0x7fffffff, b = 0x12345;
    const exact = Number(BigInt.asIntN(32, BigInt(a) * BigInt(b)));
    expect(run(PROD, Int32Array, [a], [b])[0]).toBe(exact);
    expect(run(PROD, Uint32Array, [0xfffffffb], [0xfffffff7])[0]).toBe(Number(BigInt.asUintN(32, 0xfffffffbn * 0xfffffff7n)));
    expect(run(PROD, BigInt64Array, [2n ** 40n], [2n ** 30n])[0]).toBe(BigInt.asIntN(64, 2n ** 70n));
    expect(run(PROD, Int16Array, [300], [300])[0]).toBe(Number(BigInt.asIntN(16, 90000n)));
  });
});

describe('MIN and MAX', () => {
  it('are symmetric in NaN and signed zero, so operand order never shows in the bits', () => {
    for (const op of [MIN, MAX]) {
      expect(bytes(run(op, Float64Array, [NaN, 0, -0], [1, -0, 0]))).toBe(bytes(run(op, Float64Array, [1, -0, 0], [NaN, 0, -0])));
    }
    expect(Object.is(run(MIN, Float64Array, [0], [-0])[0], -0)).toBe(true);
    expect(Object.is(run(MAX, Float64Array, [-0], [0])[0], 0)).toBe(true);
    expect(run(MIN, Float32Array, [NaN], [1])[0]).toBeNaN();
  });

  it('compare bigints and unsigned integers by value', () => {
    expect([...run(MIN, BigInt64Array, [-(2n ** 62n), 5n], [3n, -7n])]).toEqual([-(2n ** 62n), -7n]);
    expect([...run(MAX, BigUint64Array, [2n ** 63n], [1n])]).toEqual([2n ** 63n]);
    expect([...run(MAX, Uint32Array, [0xffffffff], [1])]).toEqual([0xffffffff]);
  });
});

describe('logical and bitwise ops', () => {
  it('LAND/LOR give 1 or 0 in the buffer type; BAND/BOR/BXOR work bit by bit on integers', () => {
    expect([...run(LAND, Int32Array, [2, 0, 3], [5, 1, 0])]).toEqual([1, 0, 0]);
    expect([...run(LOR, BigInt64Array, [0n, 0n, 4n], [0n, 9n, 0n])]).toEqual([0n, 1n, 1n]);
    expect([...run(BAND, Uint8Array, [0b1100], [0b1010])]).toEqual([0b1000]);
    expect([...run(BOR, Uint32Array, [0x80000000], [1])]).toEqual([0x80000001]);
    expect([...run(BXOR, BigUint64Array, [2n ** 63n + 1n], [1n])]).toEqual([2n ** 63n]);
  });

  it('BAND on floats is a typed error that says to use an integer buffer', () => {
    expect(() => run(BAND, Float64Array, [1], [1])).toThrow(expect.objectContaining({ code: 'MPI_ERR_TYPE' }));
    expect(() => run(BOR, Float32Array, [1], [1])).toThrow(/integer buffers only/);
  });
});

describe('MAXLOC and MINLOC reduce (value, index) pairs', () => {
  it('take the better value, and the smaller index on a tie', () => {
    // pairs:        (3,0) (1,0) (2,4)      vs (3,1) (4,1) (2,2)
    expect([...run(MAXLOC, Float64Array, [3, 0, 1, 0, 2, 4], [3, 1, 4, 1, 2, 2])]).toEqual([3, 0, 4, 1, 2, 2]);
    expect([...run(MINLOC, Int32Array, [3, 0, 1, 0, 2, 4], [3, 1, 4, 1, 2, 2])]).toEqual([3, 0, 1, 0, 2, 2]);
  });

  it('refuse an odd element count, which would split a pair', () => {
    expect(() => run(MAXLOC, Float64Array, [1, 2, 3], [1, 2, 3])).toThrow(expect.objectContaining({ code: 'MPI_ERR_BUFFER' }));
  });
});

describe('object forms (reduceObject / allreduceObject)', () => {
  it('combine numbers, bigints, arrays element-wise, typed arrays, and LOC pairs', () => {
    expect(SUM.combine(2, 3)).toBe(5);
    expect(PROD.combine(2n, 3n)).toBe(6n);
    expect(MAX.combine([1, 9, 3], [4, 2, 3])).toEqual([4, 9, 3]);
    expect([...(SUM.combine(new Float64Array([1, 2]), new Float64Array([3, 4])) as Float64Array)]).toEqual([4, 6]);
    expect(MAXLOC.combine([5, 3], [5, 1])).toEqual([5, 1]);
    expect(MINLOC.combine([2, 7], [5, 1])).toEqual([2, 7]);
    expect(() => SUM.combine([1, 2], [1])).toThrow(expect.objectContaining({ code: 'MPI_ERR_ARG' }));
  });
});

describe('operands of unequal length', () => {
  it('are a typed error rather than a silent partial reduction', () => {
    expect(() => SUM.apply(new Int32Array(3), new Int32Array(3), new Int32Array(2))).toThrow(/same element count/);
  });
});

describe('swapping the operands never changes the bits of the result', () => {
  const ops = [SUM, PROD, MIN, MAX, LAND, LOR, BAND, BOR, BXOR];
  for (const type of ctors) {
    it(`for every op on ${type.name}`, () => {
      const big = type === BigInt64Array || type === BigUint64Array;
      const float = type === Float32Array || type === Float64Array;
      const elem = big
        ? fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n })
        : float
          ? fc.oneof(fc.double(), fc.constantFrom(NaN, 0, -0, Infinity, -Infinity))
          : fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 });
      fc.assert(
        fc.property(fc.array(fc.tuple(elem, elem), { maxLength: 16 }), (pairs) => {
          const l = pairs.map((p) => p[0]);
          const r = pairs.map((p) => p[1]);
          for (const op of ops) {
            if (float && (op === BAND || op === BOR || op === BXOR)) continue;
            const a = run(op, type, l as any, r as any);
            const b = run(op, type, r as any, l as any);
            if (bytes(a) !== bytes(b)) return false;
          }
          for (const op of [MAXLOC, MINLOC]) {
            const even = l.length - (l.length % 2);
            if (bytes(run(op, type, l.slice(0, even) as any, r.slice(0, even) as any)) !==
                bytes(run(op, type, r.slice(0, even) as any, l.slice(0, even) as any))) return false;
          }
          return true;
        }),
        { numRuns: 60 },
      );
    });
  }
});
