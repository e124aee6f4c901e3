import { InvalidArgument, InvalidBuffer, MpiError } from '../errors.js';
import { checkShapes, isTypedArray, type ReduceOp } from './ops.js';
import type { TypedArray } from './types.js';

/**
 * A user reduction function (MPI_User_function): folds `invec` into `inoutvec` element by
 * element, `inoutvec[i] = invec[i] op inoutvec[i]`. Both arrays have the same type and length;
 * in a reduction `invec` is always the lower-ranked operand.
 */
export type UserFunction = (invec: TypedArray, inoutvec: TypedArray) => void;

/**
 * A user-defined reduction operator (MPI_Op_create) on typed buffers: usable wherever a
 * predefined op is (reduce, allreduce, scans, reduceScatter, reduceLocal...). A non-commutative
 * one is applied in rank order: the algorithms fold (lower ranks) op (higher ranks) and pick a
 * tree that keeps the ranks in order (see collectives/README.md).
 */
export class Op implements ReduceOp {
  private freed = false;

  private constructor(
    private readonly fn: UserFunction, readonly commutative: boolean, readonly unit: number, readonly name: string,
  ) {}

  /**
   * MPI_Op_create: `commute` false means the op is applied in rank order only. `unit` elements
   * form one item (3 for an op on triples, as MPI's contiguous datatype would say): the
   * algorithms never cut a buffer inside an item, and counts must be multiples of it.
   */
  static create(fn: UserFunction, commute = true, unit = 1): Op {
    if (typeof fn !== 'function') {
      throw new InvalidArgument('fn', `Op.create(): expected a function (invec, inoutvec) => void, got ${typeof fn}`);
    }
    if (!Number.isSafeInteger(unit) || unit < 1) throw new InvalidArgument('unit', `Op.create(): expected an integer >= 1 (elements per item), got ${String(unit)}`);
    return new Op(fn, Boolean(commute), unit, `user op ${fn.name || '(anonymous)'}`);
  }

  /** MPI_Op_free: the op can no longer be used (a later reduction with it raises MPI_ERR_OP). */
  free(): void {
    this.check();
    this.freed = true;
  }

  /** True once free() was called. */
  get isFreed(): boolean {
    return this.freed;
  }

  apply(out: TypedArray, left: TypedArray, right: TypedArray): void {
    this.check();
    checkShapes(this.name, out, left, right);
    if (left.length % this.unit !== 0) {
      throw new InvalidBuffer(`${this.name}: ${left.length} elements is not a whole number of ${this.unit}-element items; pass a multiple of ${this.unit}`);
    }
    // The function writes its second operand; `out` may alias `left`, so fold into a copy of `right`.
    const inout = right.slice();
    this.fn(left, inout);
    (out as Uint8Array).set(inout as Uint8Array);
  }

  combine(left: unknown, right: unknown): unknown {
    if (isTypedArray(left) && isTypedArray(right)) {
      const out = right.slice();
      this.apply(out, left, right);
      return out;
    }
    throw new InvalidArgument('op', `${this.name} reduces typed arrays; for other values pass a function (left, right) => value`);
  }

  private check(): void {
    if (this.freed) throw new MpiError('MPI_ERR_OP', `${this.name} was freed with op.free(); create it again with Op.create()`);
  }
}
