/**
 * Derived datatypes, ported in spirit from MPICH test/mpi/datatype: sizes and extents of every
 * constructor (simple_size_extent, lbub, tresized, subarray, struct_*, zeroblks, hindexed_zeros,
 * blockindexed_zero_count), get_elements / getpartelm, commit and free (simple_commit, typefree),
 * and the argument errors. Pure layout: no job needed (the transfers are in mpich-datatype-p2p).
 */
import { describe, expect, it } from 'vitest';
import {
  BYTE, Datatype, FLOAT32, FLOAT64, INT16, INT32, INT8, InvalidArgument, InvalidType, UINT8, UNDEFINED, getCount, getElements,
} from '../src/index.js';

const status = (byteCount: number) => ({ source: 0, tag: 0, count: 0, byteCount });
const bounds = (t: Datatype) => ({ size: t.size, lb: t.lb, extent: t.extent, trueLb: t.trueLb, trueExtent: t.trueExtent });
/** The bytes of one element, offset by offset, in typemap order. */
const bytes = (t: Datatype, count = 1) => t.flatten(count).flatMap((s) => Array.from({ length: s.length }, (_, i) => s.offset + i));

describe('predefined types (simple_size_extent)', () => {
  it('have the TypedArray sizes, lb 0 and extent = size', () => {
    for (const [t, n] of [[INT8, 1], [UINT8, 1], [INT16, 2], [INT32, 4], [FLOAT32, 4], [FLOAT64, 8], [BYTE, 1]] as const) {
      expect(bounds(t)).toEqual({ size: n, lb: 0, extent: n, trueLb: 0, trueExtent: n });
      expect(t.committed).toBe(true);
    }
    expect(Datatype.of(Float64Array)).toBe(FLOAT64);
    expect(() => FLOAT64.free()).toThrow(InvalidType);
  });
});

describe('constructors: size, bounds and typemap', () => {
  it('contiguous is one segment', () => {
    const t = Datatype.contiguous(5, INT32);
    expect(bounds(t)).toEqual({ size: 20, lb: 0, extent: 20, trueLb: 0, trueExtent: 20 });
    expect(t.segments).toEqual([{ offset: 0, length: 20 }]);
    expect(t.isContiguous(3)).toBe(true);
  });

  it('vector: extent ends at the last block (no trailing stride), blocks coalesce when the stride equals the blocklength', () => {
    const v = Datatype.vector(3, 2, 5, INT32);
    expect(bounds(v)).toEqual({ size: 24, lb: 0, extent: (2 * 5 + 2) * 4, trueLb: 0, trueExtent: 48 });
    expect(v.segments).toEqual([{ offset: 0, length: 8 }, { offset: 20, length: 8 }, { offset: 40, length: 8 }]);
    expect(Datatype.vector(4, 3, 3, INT16).segments).toEqual([{ offset: 0, length: 24 }]);
    expect(v.isContiguous()).toBe(false);
    const h = Datatype.hvector(2, 1, 12, FLOAT64);
    expect(bytes(h)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15, 16, 17, 18, 19]);
  });

  it('lbub: a resized 4-byte type in a vector of negative stride (lb -93, extent 126, true lb -90, true extent 121)', () => {
    const inttype = Datatype.resized(Datatype.contiguous(4, BYTE), -3, 9);
    expect(bounds(inttype)).toEqual({ size: 4, lb: -3, extent: 9, trueLb: 0, trueExtent: 4 });
    const evil = Datatype.vector(3, 4, -5, inttype);
    expect(bounds(evil)).toEqual({ size: 48, lb: -93, extent: 126, trueLb: -90, trueExtent: 121 });
    const pos = Datatype.vector(3, 4, 5, inttype);
    expect(bounds(pos)).toEqual({ size: 48, lb: -3, extent: 126, trueLb: 0, trueExtent: 121 });
  });

  it('indexed, hindexed and indexedBlock keep typemap order (not address order)', () => {
    const t = Datatype.indexed([2, 1], [4, 0], INT32);
    expect(t.segments).toEqual([{ offset: 16, length: 8 }, { offset: 0, length: 4 }]);
    expect(bounds(t)).toEqual({ size: 12, lb: 0, extent: 24, trueLb: 0, trueExtent: 24 });
    expect(Datatype.hindexed([1, 1], [10, 2], INT16).segments).toEqual([{ offset: 10, length: 2 }, { offset: 2, length: 2 }]);
    const b = Datatype.indexedBlock(2, [0, 3, 6], FLOAT32);
    expect(b.segments).toEqual([{ offset: 0, length: 8 }, { offset: 12, length: 8 }, { offset: 24, length: 8 }]);
  });

  it('zero-length blocks and zero counts (zeroblks, hindexed_zeros, blockindexed_zero_count) add nothing', () => {
    const t = Datatype.indexed([0, 2, 0], [0, 3, 100], INT32);
    expect(bounds(t)).toEqual({ size: 8, lb: 12, extent: 8, trueLb: 12, trueExtent: 8 });
    const empty = Datatype.hindexed([0, 0], [8, 16], FLOAT64);
    expect(bounds(empty)).toEqual({ size: 0, lb: 0, extent: 0, trueLb: 0, trueExtent: 0 });
    expect(Datatype.indexedBlock(0, [1, 2], INT32).size).toBe(0);
    expect(Datatype.contiguous(0, INT32).size).toBe(0);
  });

  it('struct: {double, int} pads its extent to the double alignment (16), true extent 12', () => {
    const t = Datatype.struct([1, 1], [0, 8], [FLOAT64, INT32]);
    expect(bounds(t)).toEqual({ size: 12, lb: 0, extent: 16, trueLb: 0, trueExtent: 12 });
    expect(t.basic).toBeUndefined();
    expect(bytes(t, 2).length).toBe(24);
    expect(t.flatten(2)).toEqual([{ offset: 0, length: 12 }, { offset: 16, length: 12 }]);
    // a struct of one kind is still that kind (its buffers must hold it)
    expect(Datatype.struct([2, 1], [0, 24], [INT32, INT32]).basic).toBe(INT32);
  });

  it('subarray: a 2x3 block at (1, 2) of a 4x6 int array, C and Fortran order; the extent is the whole array', () => {
    const c = Datatype.subarray([4, 6], [2, 3], [1, 2], 'C', INT32);
    expect(bounds(c)).toEqual({ size: 24, lb: 0, extent: 96, trueLb: (1 * 6 + 2) * 4, trueExtent: ((2 * 6 + 4) - (1 * 6 + 2) + 1) * 4 });
    expect(c.segments).toEqual([{ offset: 32, length: 12 }, { offset: 56, length: 12 }]);
    const f = Datatype.subarray([4, 6], [2, 3], [1, 2], 'Fortran', INT32);
    // column-major: element (i, j) at (i + 4 j) ints; rows 1..2 of columns 2..4
    expect(f.segments).toEqual([{ offset: 36, length: 8 }, { offset: 52, length: 8 }, { offset: 68, length: 8 }]);
    expect(Datatype.subarray([5], [2], [3], 'C', FLOAT64).segments).toEqual([{ offset: 24, length: 16 }]);
    const cube = Datatype.subarray([3, 3, 3], [1, 2, 1], [2, 0, 1], 'C', UINT8);
    expect(bytes(cube)).toEqual([19, 22]);
  });

  it('resized (tresized, tresized2): lb and extent replaced, the data where it was', () => {
    const t = Datatype.resized(INT32, -4, 12);
    expect(bounds(t)).toEqual({ size: 4, lb: -4, extent: 12, trueLb: 0, trueExtent: 4 });
    expect(t.flatten(3)).toEqual([{ offset: 0, length: 4 }, { offset: 12, length: 4 }, { offset: 24, length: 4 }]);
    const padded = Datatype.contiguous(2, Datatype.resized(INT16, 0, 8));
    expect(bounds(padded)).toEqual({ size: 4, lb: 0, extent: 16, trueLb: 0, trueExtent: 10 });
  });

  it('nested types compose (struct_verydeep): a vector of structs of vectors', () => {
    let t = Datatype.vector(2, 1, 2, INT8);
    for (let i = 0; i < 6; i++) t = Datatype.struct([2], [1], [t]);
    expect(t.size).toBe(2 ** 7);
    expect(bytes(t).every((b, i, a) => i === 0 || b > a[i - 1]!)).toBe(true);
  });
});

describe('get_elements and get_count (get_elements, getpartelm, get_elements_pairtype)', () => {
  const pair = Datatype.struct([1, 1], [0, 8], [FLOAT64, INT32]).commit();
  it('counts whole datatypes, and basic elements of a partly received one', () => {
    expect(getCount(status(24), pair)).toBe(2);
    expect(getElements(status(24), pair)).toBe(4);
    expect(getCount(status(20), pair)).toBe(UNDEFINED);
    expect(getElements(status(20), pair)).toBe(3); // double, int, double
    expect(getElements(status(22), pair)).toBe(UNDEFINED); // ends inside the int
    const s = Datatype.struct([1, 17], [0, 4], [INT32, BYTE]).commit();
    expect(getElements(status(21), s)).toBe(18);
    expect(getElements(status(10), s)).toBe(7);
    expect(getCount(status(8), FLOAT64)).toBe(1);
    expect(getCount(status(8), Float64Array)).toBe(1);
  });
});

describe('commit and free (simple_commit, typefree, tfree)', () => {
  it('a derived type starts uncommitted; freeing it leaves types built from it working', () => {
    const v = Datatype.vector(2, 1, 3, INT32);
    expect(v.committed).toBe(false);
    expect(v.commit()).toBe(v);
    const w = Datatype.contiguous(2, v).commit();
    v.free();
    expect(v.freed).toBe(true);
    expect(w.size).toBe(16);
    expect(() => v.commit()).toThrow(/was freed/);
    expect(() => v.free()).toThrow(/already freed/);
    expect(() => Datatype.contiguous(2, v)).toThrow(/was freed/);
  });
});

describe('bad arguments raise typed errors that say what to do', () => {
  it('counts, lists and types', () => {
    expect(() => Datatype.vector(-1, 1, 1, INT32)).toThrow(InvalidArgument);
    expect(() => Datatype.vector(2, 1.5, 1, INT32)).toThrow(/blocklength/);
    expect(() => Datatype.indexed([1, 2], [0], INT32)).toThrow(/one per block/);
    expect(() => Datatype.struct([1], [0], [Float64Array as never])).toThrow(InvalidType);
    expect(() => Datatype.subarray([4], [5], [0], 'C', INT32)).toThrow(/subsizes\[0\]/);
    expect(() => Datatype.subarray([4], [2], [3], 'C', INT32)).toThrow(/starts\[0\]/);
    expect(() => Datatype.subarray([4], [2], [0], 'X' as never, INT32)).toThrow(/order/);
    expect(() => Datatype.of(Array as never)).toThrow(InvalidType);
  });
});
