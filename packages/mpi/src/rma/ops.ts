import type { ReduceOp } from '../collectives/index.js';
import type { TypedArray } from '../typed-buffer.js';

/** MPI_REPLACE: the target element becomes the origin's. */
export const REPLACE: ReduceOp = {
  name: 'REPLACE',
  unit: 1,
  commutative: false,
  apply(out: TypedArray, _left: TypedArray, right: TypedArray): void {
    (out as unknown as { set(a: ArrayLike<unknown>): void }).set(right as unknown as ArrayLike<unknown>);
  },
  combine: (_l: unknown, r: unknown) => r,
};

/** MPI_NO_OP: the target element stays (getAccumulate and fetchAndOp then only fetch). */
export const NO_OP: ReduceOp = {
  name: 'NO_OP',
  unit: 1,
  commutative: false,
  apply(out: TypedArray, left: TypedArray): void {
    if (out !== left) (out as unknown as { set(a: ArrayLike<unknown>): void }).set(left as unknown as ArrayLike<unknown>);
  },
  combine: (l: unknown) => l,
};

/** 8-byte integer elements: accumulates on them go through the fabric's 64-bit atomics. */
export function isWordType(a: { BYTES_PER_ELEMENT: number; name: string }): boolean {
  return a.name === 'BigInt64Array' || a.name === 'BigUint64Array';
}

/** The new value of one 8-byte integer element under `op` (two's complement, as the adapter computes). */
export function combineWord(op: ReduceOp, target: bigint, origin: bigint, unsigned: boolean): bigint {
  const Ctor = unsigned ? BigUint64Array : BigInt64Array;
  const t = new Ctor([unsigned ? BigInt.asUintN(64, target) : target]);
  const o = new Ctor([unsigned ? BigInt.asUintN(64, origin) : origin]);
  const out = new Ctor(1);
  op.apply(out, t, o);
  return BigInt.asIntN(64, out[0]!);
}

/** compareAndSwap as an accumulate op: the new element is the origin's where the target equals `compare`. */
export class CompareSwapOp implements ReduceOp {
  readonly name = 'COMPARE_SWAP';
  readonly unit = 1;
  readonly commutative = false;
  constructor(readonly compare: number | bigint) {}
  apply(out: TypedArray, left: TypedArray, right: TypedArray): void {
    const o = out as unknown as (number | bigint)[];
    const l = left as unknown as (number | bigint)[];
    const r = right as unknown as (number | bigint)[];
    for (let i = 0; i < o.length; i++) o[i] = l[i] === this.compare ? r[i]! : l[i]!;
  }
  combine(l: unknown, r: unknown): unknown {
    return l === this.compare ? r : l;
  }
}
