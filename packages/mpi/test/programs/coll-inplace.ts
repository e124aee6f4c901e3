// IN_PLACE (MPICH test/mpi/coll allred3/gather2/scatter3/allgather2/alltoall1/redscat/scantst with
// MPI_IN_PLACE, in spirit): every collective MPI allows it for, blocking, nonblocking and
// persistent, at eager and rendezvous sizes, every root; each rank checks its result element by
// element, and IN_PLACE where MPI forbids it raises MPI_ERR_BUFFER before any traffic.
import { IN_PLACE, SUM, type Comm } from '@tsmpi/mpi';
import { elementChecker } from './checks.js';

export function main(c: Comm) {
  const { rank, size: p } = c;
  const wrong: string[] = [];
  const expect = elementChecker(wrong);
  const seq = (n: number, f: (i: number) => number) => Float64Array.from({ length: n }, (_, i) => f(i));
  const v = (q: number, i: number) => q * 100000 + i;
  const sumOver = (k: number, f: (q: number) => number) => Array.from({ length: k }, (_, q) => f(q)).reduce((a, b) => a + b, 0);

  for (const n of [3, 2048]) {
    const b = c.alloc(Float64Array, n * p);
    const mine = b.subarray(0, n);
    // allreduce, blocking, nonblocking and persistent
    for (const form of ['blocking', 'nonblocking', 'persistent'] as const) {
      mine.set(seq(n, (i) => v(rank, i)));
      if (form === 'blocking') c.allreduce(IN_PLACE, mine, SUM);
      else if (form === 'nonblocking') c.iallreduce(IN_PLACE, mine, SUM).wait();
      else { const r = c.allreduceInit(IN_PLACE, mine, SUM); r.start(); r.wait(); r.free(); }
      expect(`allreduce ${form} ${n}`, mine.toArray(), seq(n, (i) => sumOver(p, (q) => v(q, i))));
    }
    for (let root = 0; root < p; root++) {
      // reduce at the root
      mine.set(seq(n, (i) => v(rank, i)));
      if (rank === root) c.reduce(IN_PLACE, mine, SUM, root);
      else c.reduce(mine, null, SUM, root);
      if (rank === root) expect(`reduce ${n} root ${root}`, mine.toArray(), seq(n, (i) => sumOver(p, (q) => v(q, i))));
      // gather: the root's block is already in place
      b.fill(-1);
      if (rank === root) {
        b.subarray(root * n, (root + 1) * n).set(seq(n, (i) => v(root, i)));
        c.gather(IN_PLACE, b, root);
        expect(`gather ${n} root ${root}`, b.toArray(), seq(n * p, (i) => v(Math.floor(i / n), i % n)));
      } else {
        mine.set(seq(n, (i) => v(rank, i)));
        c.gather(mine, null, root);
      }
      // scatter: the root keeps its block where it is
      if (rank === root) {
        b.set(seq(n * p, (i) => v(Math.floor(i / n), i % n)));
        c.scatter(b, IN_PLACE, root);
        expect(`scatter ${n} root ${root} untouched`, b.toArray(), seq(n * p, (i) => v(Math.floor(i / n), i % n)));
      } else {
        mine.fill(0);
        c.scatter(null, mine, root);
        expect(`scatter ${n} root ${root}`, mine.toArray(), seq(n, (i) => v(rank, i)));
      }
    }
    // allgather: every rank's block already in place
    b.fill(-1);
    b.subarray(rank * n, (rank + 1) * n).set(seq(n, (i) => v(rank, i)));
    c.allgather(IN_PLACE, b);
    expect(`allgather ${n}`, b.toArray(), seq(n * p, (i) => v(Math.floor(i / n), i % n)));
    // alltoall: block j goes to rank j, block i comes from rank i, in the same buffer
    b.set(seq(n * p, (i) => v(rank, i)));
    c.alltoall(IN_PLACE, b);
    expect(`alltoall ${n}`, b.toArray(), seq(n * p, (i) => v(Math.floor(i / n), rank * n + (i % n))));
    // reduceScatterBlock: the input in rbuf, the block at its start
    b.set(seq(n * p, (i) => v(rank, i)));
    c.reduceScatterBlock(IN_PLACE, b, SUM);
    expect(`reduceScatterBlock ${n}`, b.subarray(0, n).toArray(), seq(n, (i) => sumOver(p, (q) => v(q, rank * n + i))));
    // scan and exscan
    mine.set(seq(n, (i) => v(rank, i)));
    c.scan(IN_PLACE, mine, SUM);
    expect(`scan ${n}`, mine.toArray(), seq(n, (i) => sumOver(rank + 1, (q) => v(q, i))));
    mine.set(seq(n, (i) => v(rank, i)));
    c.exscan(IN_PLACE, mine, SUM);
    if (rank > 0) expect(`exscan ${n}`, mine.toArray(), seq(n, (i) => sumOver(rank, (q) => v(q, i))));
    b.free();
  }

  // v-forms: rank i's block has 1 + i % 3 elements
  const counts = Array.from({ length: p }, (_, i) => 1 + (i % 3));
  const displs = counts.map((_, i) => counts.slice(0, i).reduce((a, x) => a + x, 0));
  const total = counts.reduce((a, x) => a + x, 0);
  const owner = (i: number) => displs.findLastIndex((d) => d <= i);
  const packed = seq(total, (i) => v(owner(i), i - displs[owner(i)]!));
  const vb = c.alloc(Float64Array, total);
  const own = c.alloc(Float64Array, counts[rank]!);
  const root = p - 1;
  vb.fill(-1);
  if (rank === root) {
    vb.subarray(displs[root]!, displs[root]! + counts[root]!).set(seq(counts[root]!, (i) => v(root, i)));
    c.gatherv(IN_PLACE, vb, counts, displs, root);
    expect('gatherv', vb.toArray(), packed);
    c.scatterv(vb, counts, displs, IN_PLACE, root);
  } else {
    own.set(seq(counts[rank]!, (i) => v(rank, i)));
    c.gatherv(own, null, counts, displs, root);
    own.fill(0);
    c.scatterv(null, counts, displs, own, root);
    expect('scatterv', own.toArray(), seq(counts[rank]!, (i) => v(rank, i)));
  }
  vb.fill(-1);
  vb.subarray(displs[rank]!, displs[rank]! + counts[rank]!).set(seq(counts[rank]!, (i) => v(rank, i)));
  c.allgatherv(IN_PLACE, vb, counts, displs);
  expect('allgatherv', vb.toArray(), packed);
  // alltoallv: what rank r sends rank j (rc[j] elements) is what j receives from r: symmetric counts
  const rc = Array.from({ length: p }, (_, j) => 1 + ((rank + j) % 3));
  const rd = rc.map((_, j) => rc.slice(0, j).reduce((a, x) => a + x, 0));
  const a2 = c.alloc(Float64Array, rc.reduce((a, x) => a + x, 0));
  const from = (q: number, j: number, k: number) => v(q, j * 10 + k);
  for (let j = 0; j < p; j++) a2.subarray(rd[j]!, rd[j]! + rc[j]!).set(seq(rc[j]!, (k) => from(rank, j, k)));
  c.alltoallv(IN_PLACE, [], null, a2, rc, rd);
  for (let i = 0; i < p; i++) expect(`alltoallv from ${i}`, a2.subarray(rd[i]!, rd[i]! + rc[i]!).toArray(), seq(rc[i]!, (k) => from(i, rank, k)));
  const rs = c.alloc(Float64Array, total);
  rs.set(seq(total, (i) => v(rank, i)));
  c.reduceScatter(IN_PLACE, rs, counts, SUM);
  expect('reduceScatter', rs.subarray(0, counts[rank]!).toArray(), seq(counts[rank]!, (i) => sumOver(p, (q) => v(q, displs[rank]! + i))));

  // forbidden: a non-root's IN_PLACE, IN_PLACE as a receive buffer, bcast has none
  const errors: Record<string, string> = {};
  const codeOf = (what: string, fn: () => unknown) => {
    try {
      fn();
      errors[what] = 'no error';
    } catch (e) {
      errors[what] = (e as { code?: string }).code ?? String(e);
    }
  };
  const x = c.alloc(Float64Array, p);
  if (p > 1 && rank === 0) {
    codeOf('reduce non-root', () => c.reduce(IN_PLACE, x, SUM, 1));
    codeOf('gather non-root', () => c.gather(IN_PLACE, x, 1));
    codeOf('scatter non-root', () => c.scatter(null, IN_PLACE, 1));
  }
  codeOf('allreduce rbuf', () => c.allreduce(x, IN_PLACE as never, SUM));
  codeOf('bcast', () => c.bcast(IN_PLACE as never, 0));
  return { wrong, errors };
}
