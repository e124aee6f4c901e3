// Derived datatypes between ranks, after MPICH test/mpi/datatype (transpose_pack, triangular_pack,
// tresized2, subarray, getpartelm, sendrecvt2/4, struct_pack) and coll tests with datatypes: each
// rank checks what it received byte by byte against an oracle written from the layout's definition
// (never from the typemap engine), and that the gaps kept their old contents.
import {
  Datatype, FLOAT64, INT32, BYTE, SUM, Request, InvalidBuffer, InvalidType, UNDEFINED, getCount, getElements, type Comm,
} from '@tsmpi/mpi';

type Wrong = string[];

function expectEq(wrong: Wrong, what: string, got: ArrayLike<number | bigint>, want: ArrayLike<number | bigint>): void {
  if (got.length !== want.length) return void wrong.push(`${what}: ${got.length} elements, want ${want.length}`);
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) return void wrong.push(`${what}[${i}]: ${got[i]}, want ${want[i]}`);
}

function throws(wrong: Wrong, what: string, fn: () => void, type: new (...a: never[]) => Error, text: RegExp): void {
  try {
    fn();
    wrong.push(`${what}: no error`);
  } catch (e) {
    if (!(e instanceof type) || !text.test((e as Error).message)) wrong.push(`${what}: ${String(e)}`);
  }
}

/** transpose_pack and triangular_pack between ranks: rank 0 sends with the type, the last rank receives contiguous and by type. */
function matrices(c: Comm, n: number, wrong: Wrong): void {
  const last = c.size - 1;
  const a = c.alloc(Int32Array, n * n);
  const row = Datatype.vector(n, 1, n, INT32);
  const xpose = Datatype.hvector(n, 1, 4, row).commit();
  const lower = Datatype.indexed(
    Array.from({ length: n }, (_, i) => i + 1), Array.from({ length: n }, (_, i) => i * n), INT32,
  ).commit();
  const sends: Request[] = [];
  if (c.rank === 0) {
    a.set(Int32Array.from({ length: n * n }, (_, k) => Math.floor(k / n) * 1000 + (k % n)));
    sends.push(c.isend([a, 1, xpose], last, 1), c.isend([a, 1, lower], last, 2), c.isend([a, 1, lower], last, 3));
  }
  if (c.rank === last) {
    const b = c.alloc(Int32Array, n * n);
    b.fill(-1);
    const st = c.recv(b, 0, 1);
    if (st.count !== n * n) wrong.push(`transpose count ${st.count}`);
    expectEq(wrong, 'transpose', b.toArray(), Int32Array.from({ length: n * n }, (_, k) => (k % n) * 1000 + Math.floor(k / n)));
    const t = c.alloc(Int32Array, (n * (n + 1)) / 2);
    c.recv(t, 0, 2);
    const want: number[] = [];
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) want.push(i * 1000 + j);
    expectEq(wrong, 'triangular', t.toArray(), want);
    // by type on the receive side too: the lower triangle lands, the upper keeps -1
    b.fill(-1);
    const s = c.recv([b, 1, lower], 0, 3);
    if (getCount(s, lower) !== 1 || getElements(s, INT32) !== want.length) wrong.push(`lower counts ${getCount(s, lower)} ${getElements(s, INT32)}`);
    expectEq(wrong, 'lower landing', b.toArray(), Int32Array.from({ length: n * n }, (_, k) => (k % n <= Math.floor(k / n) ? Math.floor(k / n) * 1000 + (k % n) : -1)));
    b.free();
    t.free();
  }
  Request.waitAll(sends);
  xpose.free();
  lower.free();
  a.free();
}

/** tresized2: an int with an int-sized pad before and after it (lb -4, extent 12), counts 1 … 2^k. */
function resized(c: Comm, maxCount: number, wrong: Wrong): void {
  const last = c.size - 1;
  const padded = Datatype.resized(INT32, -4, 12).commit();
  const sends: Request[] = [];
  for (let count = 1; count <= maxCount; count *= 4) {
    const buf = c.alloc(Int32Array, 3 * count);
    buf.fill(-1);
    if (c.rank === 0) {
      buf.set(Int32Array.from({ length: 3 * count }, (_, i) => (i % 3 === 0 ? i / 3 : -7)));
      sends.push(c.isend([buf, count, padded], last, 0), c.isend([buf, count, padded], last, 1));
    }
    if (c.rank === last) {
      c.recv([buf, count, INT32], 0, 0);
      expectEq(wrong, `resized ${count} contiguous`, buf.toArray().subarray(0, count), Int32Array.from({ length: count }, (_, i) => i));
      buf.fill(-1);
      c.recv([buf, count, padded], 0, 1);
      expectEq(wrong, `resized ${count} typed`, buf.toArray(), Int32Array.from({ length: 3 * count }, (_, i) => (i % 3 === 0 ? i / 3 : -1)));
    }
    Request.waitAll(sends.splice(0));
    buf.free();
  }
  padded.free();
}

/** A 3-D subarray (a face of a block) exchanged around a ring in doubles; the rest of the block is untouched. */
function subarrayRing(c: Comm, wrong: Wrong): void {
  const [X, Y, Z] = [5, 6, 7];
  const face = Datatype.subarray([X, Y, Z], [X, Y - 2, 2], [0, 1, 3], 'C', FLOAT64).commit();
  const block = c.alloc(Float64Array, X * Y * Z);
  const mark = (r: number, k: number) => r * 1e6 + k;
  block.set(Float64Array.from({ length: X * Y * Z }, (_, k) => mark(c.rank, k)));
  const right = (c.rank + 1) % c.size;
  const left = (c.rank - 1 + c.size) % c.size;
  const recvd = c.alloc(Float64Array, X * Y * Z);
  recvd.fill(-1);
  c.sendrecv([block, 1, face], right, 9, [recvd, 1, face], left, 9);
  const inFace = (k: number) => {
    const x = Math.floor(k / (Y * Z)), y = Math.floor(k / Z) % Y, z = k % Z;
    return x < X && y >= 1 && y < Y - 1 && z >= 3 && z < 5;
  };
  expectEq(wrong, 'subarray face', recvd.toArray(), Float64Array.from({ length: X * Y * Z }, (_, k) => (inFace(k) ? mark(left, k) : -1)));
  face.free();
  block.free();
  recvd.free();
}

/** getpartelm: a struct {int, 17 bytes} received as bytes, and get_elements of a part of a struct. */
function partialElements(c: Comm, wrong: Wrong): void {
  if (c.size < 2) return;
  const t = Datatype.struct([1, 17], [0, 4], [INT32, BYTE]).commit();
  const buf = c.alloc(Uint8Array, 32);
  if (c.rank === 0) {
    buf.set(Uint8Array.from({ length: 32 }, (_, i) => i));
    c.send([buf, 1, t], 1, 4);
  } else if (c.rank === 1) {
    const st = c.recv([buf, 21, BYTE], 0, 4);
    if (getElements(st, t) !== 18 || getCount(st, t) !== 1 || getCount(st, INT32) !== UNDEFINED) {
      wrong.push(`getpartelm: elements ${getElements(st, t)} count ${getCount(st, t)} int count ${getCount(st, INT32)}`);
    }
    expectEq(wrong, 'getpartelm bytes', buf.toArray().subarray(0, 21), Uint8Array.from({ length: 21 }, (_, i) => i));
  }
  t.free();
  buf.free();
}

/** Collectives with datatypes: bcast of a column, gather of strided rows, allreduce over a vector, alltoall of blocks. */
function collectives(c: Comm, wrong: Wrong): void {
  const { rank, size: p } = c;
  const n = 8;
  const m = c.alloc(Float64Array, n * n);
  m.set(Float64Array.from({ length: n * n }, (_, k) => rank * 1000 + k));
  const col = Datatype.vector(n, 1, n, FLOAT64).commit();
  const root = p - 1;
  c.bcast([m.subarray(3), 1, col], root);
  expectEq(wrong, 'bcast column', m.toArray(), Float64Array.from({ length: n * n }, (_, k) => (k % n === 3 ? root * 1000 + k : rank * 1000 + k)));
  // every other element of 2n, summed over ranks into every other element of the result
  const every2 = Datatype.vector(n, 1, 2, FLOAT64).commit();
  const s = c.alloc(Float64Array, 2 * n);
  s.set(Float64Array.from({ length: 2 * n }, (_, k) => rank + k));
  const r = c.alloc(Float64Array, 2 * n);
  r.fill(-1);
  c.allreduce([s, 1, every2], [r, 1, every2], SUM);
  const tri = (p * (p - 1)) / 2;
  expectEq(wrong, 'allreduce strided', r.toArray(), Float64Array.from({ length: 2 * n }, (_, k) => (k % 2 === 0 ? tri + p * k : -1)));
  // gather each rank's column 1 into the root's rows (contiguous), then by a column type per rank
  const rows = c.alloc(Float64Array, p * n);
  rows.fill(-1);
  m.set(Float64Array.from({ length: n * n }, (_, k) => rank * 1000 + k));
  c.gather([m.subarray(1), 1, col], rank === 0 ? rows : null, 0);
  if (rank === 0) {
    expectEq(wrong, 'gather columns', rows.toArray(), Float64Array.from({ length: p * n }, (_, k) => Math.floor(k / n) * 1000 + (k % n) * n + 1));
  }
  // alltoall: block j of a strided send buffer (every other double) to rank j
  const sa = c.alloc(Float64Array, 2 * p * 2);
  sa.set(Float64Array.from({ length: 4 * p }, (_, k) => rank * 100 + k));
  const ra = c.alloc(Float64Array, 2 * p);
  c.alltoall([sa, 2 * p, Datatype.resized(FLOAT64, 0, 16).commit()], ra);
  expectEq(wrong, 'alltoall strided', ra.toArray(), Float64Array.from({ length: 2 * p }, (_, k) => Math.floor(k / 2) * 100 + 2 * (2 * rank + (k % 2))));
  const q = c.ibcast([m, 1, col], 0);
  q.wait();
  expectEq(wrong, 'ibcast column', m.toArray(), Float64Array.from({ length: n * n }, (_, k) => (k % n === 0 ? k : rank * 1000 + k)));
  for (const b of [m, s, r, rows, sa, ra]) b.free();
  col.free();
  every2.free();
}

/** Wrong arguments: typed errors, nothing sent. */
function errors(c: Comm, wrong: Wrong): void {
  const buf = c.alloc(Float64Array, 10);
  const v = Datatype.vector(3, 1, 4, FLOAT64);
  throws(wrong, 'uncommitted', () => c.send([buf, 1, v], 0, 0), InvalidType, /not committed.*commit\(\)/);
  v.commit();
  throws(wrong, 'overrun', () => c.send([buf, 2, v], 0, 0), InvalidBuffer, /touch bytes \[0, 144\) of a buffer of 80 bytes/);
  throws(wrong, 'mismatch', () => c.send([buf, 1, Datatype.vector(2, 1, 2, INT32).commit()], 0, 0), InvalidType, /made of INT32 but the buffer holds Float64Array/);
  throws(wrong, 'not a datatype', () => c.send([buf, 1, Float64Array as never], 0, 0), InvalidType, /must be a Datatype/);
  throws(wrong, 'bad count', () => c.recv([buf, -1, FLOAT64], 0, 0), Error, /integer >= 0/);
  v.free();
  throws(wrong, 'freed', () => c.recv([buf, 1, v], 0, 0), InvalidType, /was freed/);
  throws(wrong, 'collective overrun', () => c.bcast([buf, 11, FLOAT64], 0), InvalidBuffer, /80 bytes/);
  if (c.stats().messages.eagerSends + c.stats().messages.rendezvousSends !== 0) wrong.push('errors sent something');
  buf.free();
}

export function main(c: Comm) {
  const wrong: Wrong = [];
  errors(c, wrong);
  c.barrier();
  matrices(c, 20, wrong);
  matrices(c, 100, wrong);
  resized(c, 4096, wrong);
  subarrayRing(c, wrong);
  partialElements(c, wrong);
  collectives(c, wrong);
  return { wrong, messages: c.stats().messages };
}
