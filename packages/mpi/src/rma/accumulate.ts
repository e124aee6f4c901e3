import type { ReduceOp } from '../collectives/index.js';
import type { TypedArray, TypedArrayCtor } from '../typed-buffer.js';
import type { Comm } from '../comm.js';
import { CompareSwapOp, NO_OP, combineWord, isWordType } from './ops.js';
import type { TargetAccess } from './target-access.js';
import { lockWord, unlockWord, ACC_LOCK_OFFSET } from './lock-word.js';
import type { TargetInfo } from './directory.js';

/** Where an accumulate lands: `count` elements of `type` at `addr` (rkey) of `target`. */
export interface AccTarget {
  target: number;
  info: TargetInfo;
  addr: number;
  rkey: number;
  type: TypedArrayCtor;
  count: number;
}

/**
 * target ← op(target, origin), returning the target's elements from before (getAccumulate,
 * fetchAndOp). MPI's per-element atomicity, two ways:
 *   - 8-byte integers: each element by the fabric's atomics — fetch-add for SUM, a fetch then a
 *     compare-and-swap loop for every other op, so they are atomic against each other;
 *   - any other type: read, combine and write back while holding the target's accumulate lock (a
 *     second lock word taken by remote compare-and-swap), so accumulates to a target never interleave.
 */
export function accumulateAt(comm: Comm, access: TargetAccess, t: AccTarget, origin: TypedArray, op: ReduceOp,
  scratch: () => number): TypedArray {
  const what = `accumulate (${op.name})`;
  if (isWordType(t.type)) {
    const unsigned = t.type.name === 'BigUint64Array';
    const before = new t.type(t.count) as TypedArray;
    for (let i = 0; i < t.count; i++) {
      const at = t.addr + i * 8;
      const o = BigInt.asIntN(64, (origin as unknown as bigint[])[i]!);
      let old: bigint;
      if (op.name === 'SUM') old = access.atomic(t.target, 'fetch-add', at, t.rkey, o, 0n, what);
      else if (op instanceof CompareSwapOp) {
        old = access.atomic(t.target, 'compare-swap', at, t.rkey, BigInt.asIntN(64, BigInt(op.compare)), o, what);
      } else {
        old = access.atomic(t.target, 'fetch-add', at, t.rkey, 0n, 0n, what);
        if (op !== NO_OP) {
          for (;;) {
            const seen = access.atomic(t.target, 'compare-swap', at, t.rkey, old, combineWord(op, old, o, unsigned), what);
            if (seen === old) break;
            old = seen;
          }
        }
      }
      (before as unknown as bigint[])[i] = unsigned ? BigInt.asUintN(64, old) : old;
    }
    return before;
  }
  const bytes = t.count * t.type.BYTES_PER_ELEMENT;
  const local = scratch();
  const lock = { addr: t.info.ctlAddr + ACC_LOCK_OFFSET, rkey: t.info.ctlRkey };
  lockWord(access, t.target, lock, 'exclusive');
  try {
    access.read(t.target, local, t.addr, t.rkey, bytes, what);
    const raw = comm.runtime.memory.read(local, bytes);
    const before = new t.type(raw.buffer, raw.byteOffset, t.count) as TypedArray;
    if (op !== NO_OP) {
      const after = new t.type(t.count) as TypedArray;
      op.apply(after, before, origin);
      comm.runtime.memory.write(local, after);
      access.write(t.target, local, t.addr, t.rkey, bytes, what);
      comm.runtime.engine.chargeLocalCopy(bytes);
    }
    return before;
  } finally {
    unlockWord(access, t.target, lock, 'exclusive');
  }
}
