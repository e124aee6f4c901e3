import { InvalidArgument, InvalidBuffer } from '../errors.js';
import type { ReduceOp } from './ops.js';
import { countReduction } from './stats.js';
import { checkCount, checkSameType } from './transport.js';
import type { Buffer, LocalWork } from './types.js';

/**
 * Bytes a reduction of `operandBytes`-byte operands is charged for at the memcpy rate: every
 * byte it reads (both operands) and writes (the result), i.e. three operand lengths. See README.
 */
export function reductionBytes(operandBytes: number): number {
  return 3 * operandBytes;
}

/**
 * out = left op right, element-wise; `out` may be either operand. Left is always the
 * lower-ranked contribution. Charged to the rank's clock as a memcpy-rate pass over the
 * bytes read and written (reductionBytes).
 */
export function combineInto(work: LocalWork, op: ReduceOp, out: Buffer, left: Buffer, right: Buffer): void {
  const l = left.toArray();
  op.apply(l, l, right.toArray());
  out.set(l);
  if (out.count === 0) return;
  const bytes = reductionBytes(out.byteLength);
  countReduction(bytes, work.chargeLocal(bytes));
}

/**
 * Fail before any traffic if the op cannot reduce this buffer (BAND on floats, an odd
 * count for MAXLOC pairs), so no rank is left waiting for a peer that already threw.
 */
export function checkOp(name: string, op: ReduceOp, buf: Buffer): void {
  if (!op || typeof op.apply !== 'function') {
    throw new InvalidArgument('op', `${name}: op is not a ReduceOp; pass SUM, PROD, MIN, MAX, ... from @tsmpi/mpi`);
  }
  const empty = new buf.type(0);
  op.apply(empty, empty, empty);
  if (buf.count % op.unit !== 0) {
    const what = op.unit === 2 ? 'pass an even count' : `pass a multiple of ${op.unit}`;
    throw new InvalidBuffer(`${name}: ${op.name} reduces items of ${op.unit} elements but the buffer has ${buf.count}; ${what}`);
  }
}

/** MPI_Reduce_local: inout = in op inout, element-wise (`in` is the left operand), charged as a local reduction. */
export function reduceLocal(work: LocalWork, inbuf: Buffer, inoutbuf: Buffer, op: ReduceOp): void {
  checkOp('reduceLocal', op, inbuf);
  checkCount('reduceLocal', 'the inout buffer', inoutbuf, inbuf.count);
  checkSameType('reduceLocal', inbuf, inoutbuf);
  combineInto(work, op, inoutbuf, inbuf, inoutbuf);
}
