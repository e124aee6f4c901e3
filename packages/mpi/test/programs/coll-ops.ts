// Reduction operators (MPICH test/mpi/coll op_commutative, reduce_local, opland, oplor, oplxor,
// opbxor, uoplong and the non-commutative reductions in spirit): every predefined op's
// commutativity, reduceLocal with SUM and with a non-commutative user op, the logical and bitwise
// ops on several element types, a user op on triples at growing counts, and a non-commutative
// user op (composition of affine maps) through reduce at every root, allreduce short and long,
// scan, exscan and reduceScatter. Each rank reports what went wrong.
import {
  BAND, BOR, BXOR, LAND, LOR, LXOR, MAX, MAXLOC, MIN, MINLOC, Op, PROD, SUM, collectiveStats,
  type Comm, type TypedArray, type TypedArrayCtor,
} from '@tsmpi/mpi';

export function main(c: Comm) {
  const { rank, size: p } = c;
  const wrong: string[] = [];
  const expect = (what: string, got: ArrayLike<number | bigint>, want: ArrayLike<number | bigint>) => {
    if (got.length !== want.length) return void wrong.push(`${what}: ${got.length} elements, want ${want.length}`);
    for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) return void wrong.push(`${what}[${i}]: ${got[i]}, want ${want[i]}`);
  };

  // op_commutative
  for (const op of [MAX, MIN, SUM, PROD, LAND, BAND, LOR, BOR, LXOR, BXOR, MAXLOC, MINLOC]) {
    if (!op.commutative) wrong.push(`${op.name} is not commutative`);
  }
  const twiceIn = (invec: TypedArray, inout: TypedArray) => {
    if (!(invec instanceof Int32Array)) wrong.push(`user op got ${invec.constructor.name}`);
    for (let i = 0; i < inout.length; i++) (inout as Int32Array)[i] = (invec as Int32Array)[i]! * 2 + (inout as Int32Array)[i]!;
  };
  const cu = Op.create(twiceIn, true);
  const ncu = Op.create(twiceIn, false);
  if (!cu.commutative || ncu.commutative) wrong.push('user op commutativity');

  // reduce_local: SUM gives 2i, the user op 3i; inbuf untouched
  for (let count = 0; count <= 8192; count = count > 0 ? count * 2 : 1) {
    for (const [op, k] of [[SUM, 2], [ncu, 3]] as const) {
      const inb = c.alloc(Int32Array, count);
      const io = c.alloc(Int32Array, count);
      const idx = Int32Array.from({ length: count }, (_, i) => i);
      inb.set(idx);
      io.set(idx);
      c.reduceLocal(inb, io, op);
      expect(`reduceLocal ${op.name} ${count} in`, inb.toArray(), idx);
      expect(`reduceLocal ${op.name} ${count}`, io.toArray(), idx.map((i) => k * i));
      inb.free();
      io.free();
    }
  }

  // opland/oplor/oplxor/opband/opbor/opbxor: [1, 0, rank > 0] (and rank bits) on several types, at root 0
  const types: TypedArrayCtor[] = [Int8Array, Uint8Array, Int16Array, Int32Array, Uint32Array, BigInt64Array, Float64Array];
  for (const T of types) {
    const big = T === BigInt64Array || T === BigUint64Array;
    const n = (x: number) => (big ? BigInt(x) : x);
    const logical = [[LAND, [0]], [LOR, [p > 1 ? 1 : 0]], [LXOR, [(p - 1) % 2]]] as const;
    for (const [op, [third]] of logical) {
      const s = c.alloc(T as TypedArrayCtor<Int32Array>, 3);
      const r = c.alloc(T as TypedArrayCtor<Int32Array>, 3);
      s.set([1, 0, rank > 0 ? 1 : 0].map(n) as unknown as Int32Array);
      r.set([0, 1, 1].map(n) as unknown as Int32Array);
      c.reduce(s, rank === 0 ? r : null, op, 0);
      const ones = op === LAND ? 1 : op === LOR ? 1 : p % 2;
      if (rank === 0) expect(`${op.name} ${T.name}`, r.toArray(), [ones, 0, third!].map(n));
      s.free();
      r.free();
    }
    if (T === Float64Array) continue; // bitwise ops are for integers
    for (const op of [BAND, BOR, BXOR]) {
      const s = c.alloc(T as TypedArrayCtor<Int32Array>, 2);
      const r = c.alloc(T as TypedArrayCtor<Int32Array>, 2);
      s.set([1 << (rank % 7), 0x7f].map(n) as unknown as Int32Array);
      c.allreduce(s, r, op);
      let acc = op === BAND ? 0x7f : 0;
      let all = op === BAND ? 0x7f : 0;
      for (let q = 0; q < p; q++) {
        const bit = 1 << (q % 7);
        acc = op === BAND ? acc & bit : op === BOR ? acc | bit : acc ^ bit;
        all = op === BAND ? all & 0x7f : op === BOR ? all | 0x7f : all ^ 0x7f;
      }
      expect(`${op.name} ${T.name}`, r.toArray(), [acc, all].map(n));
      s.free();
      r.free();
    }
  }

  // uoplong: a user op on (sum, max, min) triples, reduce to 0 at growing counts
  const triple = Op.create((invec, inout) => {
    const a = invec as Float64Array, b = inout as Float64Array;
    for (let i = 0; i < a.length; i += 3) {
      b[i] = b[i]! + a[i]!;
      b[i + 1] = Math.max(a[i + 1]!, b[i + 1]!);
      b[i + 2] = Math.min(a[i + 2]!, b[i + 2]!);
    }
  }, false, 3);
  for (let count = 1; count <= 4096; count *= 4) {
    const s = c.alloc(Float64Array, 3 * count);
    const r = c.alloc(Float64Array, 3 * count);
    s.set(Float64Array.from({ length: 3 * count }, (_, i) => 1 + (i & 3)));
    r.fill(-1);
    c.reduce(s, r, triple, 0);
    if (rank === 0) {
      const want = Float64Array.from({ length: 3 * count }, (_, i) => (i % 3 === 0 ? p * (1 + (i & 3)) : 1 + (i & 3)));
      expect(`uoplong ${count}`, r.toArray(), want);
    }
    s.free();
    r.free();
  }

  // Non-commutative: rank q contributes the affine map x -> a_q x + b_q as (a, b) pairs; the op
  // composes (in first, then inout). Each element pair k carries a different map.
  const affine = Op.create(function compose(invec, inout) {
    const f = invec as Float64Array, g = inout as Float64Array;
    for (let i = 0; i < f.length; i += 2) {
      const a = f[i]! * g[i]!;
      g[i + 1] = g[i]! * f[i + 1]! + g[i + 1]!;
      g[i] = a;
    }
  }, false, 2);
  const map = (q: number, k: number): [number, number] => [1 + ((q + k) % 3), q + 1 + (k % 5)];
  const mine = (pairs: number) => Float64Array.from({ length: 2 * pairs }, (_, i) => map(rank, i >> 1)[i & 1]);
  const folded = (lo: number, hi: number, pairs: number) => {
    const out = new Float64Array(2 * pairs);
    for (let k = 0; k < pairs; k++) {
      let [a, b] = map(lo, k);
      for (let q = lo + 1; q < hi; q++) {
        const [a2, b2] = map(q, k);
        [a, b] = [a * a2, a2 * b + b2];
      }
      out[2 * k] = a;
      out[2 * k + 1] = b;
    }
    return out;
  };
  for (const pairs of [3, 1024]) {
    const s = c.alloc(Float64Array, 2 * pairs);
    const r = c.alloc(Float64Array, 2 * pairs);
    s.set(mine(pairs));
    for (let root = 0; root < p; root++) {
      r.fill(0);
      c.reduce(s, r, affine, root);
      if (rank === root) expect(`noncommutative reduce ${pairs} root ${root}`, r.toArray(), folded(0, p, pairs));
    }
    c.allreduce(s, r, affine);
    expect(`noncommutative allreduce ${pairs}`, r.toArray(), folded(0, p, pairs));
    c.scan(s, r, affine);
    expect(`noncommutative scan ${pairs}`, r.toArray(), folded(0, rank + 1, pairs));
    r.fill(-7);
    c.exscan(s, r, affine);
    if (rank > 0) expect(`noncommutative exscan ${pairs}`, r.toArray(), folded(0, rank, pairs));
    else expect(`exscan rank 0 untouched ${pairs}`, r.toArray(), new Float64Array(2 * pairs).fill(-7));
    s.free();
    r.free();
  }
  const blk = c.alloc(Float64Array, 2 * p);
  const out = c.alloc(Float64Array, 2);
  blk.set(mine(p));
  c.reduceScatterBlock(blk, out, affine);
  expect('noncommutative reduceScatterBlock', out.toArray(), folded(0, p, p).subarray(2 * rank, 2 * rank + 2));

  // A freed op is refused before any traffic; an odd count for a pair op is refused too.
  ncu.free();
  const one = c.alloc(Int32Array, 1);
  const errors: string[] = [];
  for (const [what, call] of [
    ['freed', () => c.allreduce(one, one, ncu)],
    ['free twice', () => ncu.free()],
    ['odd count', () => c.allreduce(one, one, affine)],
  ] as const) {
    try {
      call();
      errors.push(`${what}: no error`);
    } catch (e) {
      errors.push(`${what}: ${(e as { code?: string }).code}`);
    }
  }
  return { wrong, errors, algorithms: collectiveStats().algorithms };
}
