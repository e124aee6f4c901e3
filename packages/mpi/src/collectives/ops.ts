import type { TypedArray } from './types.js';
import { InvalidArgument, InvalidBuffer, InvalidType } from '../errors.js';

/**
 * A reduction operator. `apply` writes `left op right` element by element into `out`
 * (which may alias either operand); callers always pass the lower-ranked contribution
 * as `left`, so a floating-point reduction is evaluated in one fixed order.
 * `unit` is how many elements form one reduction item: 1, 2 for the (value, index)
 * pairs of MAXLOC/MINLOC, or what a user op says, so the algorithms never split an item when
 * they cut a buffer.
 */
export interface ReduceOp {
  readonly name: string;
  readonly unit: number;
  /** All MPI predefined ops are commutative; a user op may not be (reduce and allreduce then keep rank order). */
  readonly commutative: boolean;
  apply(out: TypedArray, left: TypedArray, right: TypedArray): void;
  /** The same operator on plain values, for reduceObject / allreduceObject (numbers, bigints, arrays of them). */
  combine(left: unknown, right: unknown): unknown;
}

// Indexable view used by the loops: one loop body serves number and bigint arrays
// where the JS operator means the same thing for both (+, *, &, |, ^, <).
type Cells = { [i: number]: any; readonly length: number };

function isBig(a: TypedArray): boolean {
  return a instanceof BigInt64Array || a instanceof BigUint64Array;
}
function isFloat(a: TypedArray): boolean {
  return a instanceof Float64Array || a instanceof Float32Array;
}
// Math.imul keeps a 32-bit integer product exact; a double product of two 32-bit
// integers can exceed 2^53 and lose the low bits before the store wraps it.
function is32(a: TypedArray): boolean {
  return a instanceof Int32Array || a instanceof Uint32Array;
}

export function checkShapes(name: string, out: TypedArray, left: TypedArray, right: TypedArray): void {
  if (left.length !== right.length || out.length !== left.length) {
    throw new InvalidBuffer(
      `${name}: operands have ${left.length} and ${right.length} elements (result ${out.length}); ` +
        'every rank must pass buffers with the same element count',
    );
  }
}

export function isTypedArray(v: unknown): v is TypedArray {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

function makeOp(
  name: string,
  loop: (out: Cells, left: Cells, right: Cells, a: TypedArray) => void,
  scalar: (a: any, b: any) => unknown,
  unit: 1 | 2 = 1,
): ReduceOp {
  const apply = (out: TypedArray, left: TypedArray, right: TypedArray): void => {
    checkShapes(name, out, left, right);
    if (left.length % unit !== 0) {
      throw new InvalidBuffer(
        `${name}: ${left.length} elements is not a whole number of (value, index) pairs; pass an even count`,
      );
    }
    loop(out as Cells, left as Cells, right as Cells, left);
  };
  // Object reductions: typed arrays reuse the buffer loop, plain arrays combine element by
  // element (except for the LOC ops, whose operand is itself a [value, index] array).
  const combine = (l: unknown, r: unknown): unknown => {
    if (isTypedArray(l) && isTypedArray(r)) {
      const out = l.slice();
      apply(out, l, r);
      return out;
    }
    if (unit === 1 && Array.isArray(l) && Array.isArray(r)) {
      if (l.length !== r.length) {
        throw new InvalidArgument('value', `${name}: arrays of length ${l.length} and ${r.length}; reduce arrays of equal length`);
      }
      return l.map((x, i) => combine(x, r[i]));
    }
    return scalar(l, r);
  };
  return Object.freeze({ name, unit, commutative: true, apply, combine });
}

function integerOnly(name: string, a: TypedArray): void {
  if (isFloat(a)) {
    throw new InvalidType(`${name} is defined for integer buffers only, not ${a.constructor.name}; use an Int*/Uint*/BigInt* buffer`);
  }
}

export const SUM: ReduceOp = makeOp(
  'SUM',
  (o, l, r) => {
    for (let i = 0; i < o.length; i++) o[i] = l[i] + r[i];
  },
  (a, b) => a + b,
);

export const PROD: ReduceOp = makeOp(
  'PROD',
  (o, l, r, a) => {
    if (is32(a)) for (let i = 0; i < o.length; i++) o[i] = Math.imul(l[i], r[i]);
    else for (let i = 0; i < o.length; i++) o[i] = l[i] * r[i];
  },
  (a, b) => a * b,
);

// Math.min/max for numbers: unlike `a < b ? a : b` they are symmetric in NaN and ±0,
// so swapping operands can never change the bits of the result.
export const MIN: ReduceOp = makeOp(
  'MIN',
  (o, l, r, a) => {
    if (isBig(a)) for (let i = 0; i < o.length; i++) o[i] = l[i] < r[i] ? l[i] : r[i];
    else for (let i = 0; i < o.length; i++) o[i] = Math.min(l[i], r[i]);
  },
  (a, b) => (typeof a === 'bigint' ? (a < b ? a : b) : Math.min(a, b)),
);

export const MAX: ReduceOp = makeOp(
  'MAX',
  (o, l, r, a) => {
    if (isBig(a)) for (let i = 0; i < o.length; i++) o[i] = l[i] > r[i] ? l[i] : r[i];
    else for (let i = 0; i < o.length; i++) o[i] = Math.max(l[i], r[i]);
  },
  (a, b) => (typeof a === 'bigint' ? (a > b ? a : b) : Math.max(a, b)),
);

export const LAND: ReduceOp = makeOp(
  'LAND',
  (o, l, r, a) => {
    const [t, f] = isBig(a) ? [1n, 0n] : [1, 0];
    for (let i = 0; i < o.length; i++) o[i] = l[i] && r[i] ? t : f;
  },
  (a, b) => Boolean(a) && Boolean(b),
);

export const LOR: ReduceOp = makeOp(
  'LOR',
  (o, l, r, a) => {
    const [t, f] = isBig(a) ? [1n, 0n] : [1, 0];
    for (let i = 0; i < o.length; i++) o[i] = l[i] || r[i] ? t : f;
  },
  (a, b) => Boolean(a) || Boolean(b),
);

export const LXOR: ReduceOp = makeOp(
  'LXOR',
  (o, l, r, a) => {
    const [t, f] = isBig(a) ? [1n, 0n] : [1, 0];
    for (let i = 0; i < o.length; i++) o[i] = !l[i] !== !r[i] ? t : f;
  },
  (a, b) => Boolean(a) !== Boolean(b),
);

export const BAND: ReduceOp = makeOp(
  'BAND',
  (o, l, r, a) => {
    integerOnly('BAND', a);
    for (let i = 0; i < o.length; i++) o[i] = l[i] & r[i];
  },
  (a, b) => a & b,
);

export const BOR: ReduceOp = makeOp(
  'BOR',
  (o, l, r, a) => {
    integerOnly('BOR', a);
    for (let i = 0; i < o.length; i++) o[i] = l[i] | r[i];
  },
  (a, b) => a | b,
);

export const BXOR: ReduceOp = makeOp(
  'BXOR',
  (o, l, r, a) => {
    integerOnly('BXOR', a);
    for (let i = 0; i < o.length; i++) o[i] = l[i] ^ r[i];
  },
  (a, b) => a ^ b,
);

// MAXLOC/MINLOC reduce (value, index) pairs laid out flat: [v0, i0, v1, i1, ...].
// On a tie MPI takes the smaller index, which also makes the op commutative. "Neither is
// better" also covers NaN and ±0; the value is then chosen by Math.max/min, which are
// symmetric in both, so swapping operands cannot change the bits.
function locOp(name: string, better: (x: any, y: any) => boolean, tie: (x: number, y: number) => number): ReduceOp {
  return makeOp(
    name,
    (o, l, r, a) => {
      const big = isBig(a);
      for (let i = 0; i < o.length; i += 2) {
        const lv = l[i], li = l[i + 1], rv = r[i], ri = r[i + 1];
        if (better(lv, rv)) { o[i] = lv; o[i + 1] = li; }
        else if (better(rv, lv)) { o[i] = rv; o[i + 1] = ri; }
        else if (big) { o[i] = lv; o[i + 1] = li < ri ? li : ri; }
        else { o[i] = tie(lv, rv); o[i + 1] = Math.min(li, ri); }
      }
    },
    (a: [any, any], b: [any, any]) => {
      if (better(a[0], b[0])) return a;
      if (better(b[0], a[0])) return b;
      return [typeof a[0] === 'bigint' ? a[0] : tie(a[0], b[0]), a[1] < b[1] ? a[1] : b[1]];
    },
    2,
  );
}
export const MAXLOC: ReduceOp = locOp('MAXLOC', (x, y) => x > y, Math.max);
export const MINLOC: ReduceOp = locOp('MINLOC', (x, y) => x < y, Math.min);
