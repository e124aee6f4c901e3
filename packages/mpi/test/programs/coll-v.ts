// The v-collectives, reduce-scatter and scans (MPICH test/mpi/coll gatherv, scatterv, allgatherv,
// alltoallv, redscat, scantst, exscan in spirit) on one communicator: uneven counts with zeros, gaps
// between blocks, every root; rendezvous-sized blocks too. Each rank checks its own result element
// by element and reports what went wrong and how many messages each call sent.
import { MAX, SUM, collectiveStats, type Comm, type TypedBuffer } from '@tsmpi/mpi';

type Traffic = Record<string, [engine: number, collectives: number]>;

/** Count patterns, in elements, for rank i of p: uneven with zeros, all zero, rendezvous-sized on even ranks. */
export const PATTERNS: Record<string, (i: number, p: number) => number> = {
  uneven: (i) => (i * 3 + 1) % 4,
  zero: () => 0,
  large: (i) => (i % 2 ? 0 : 2000),
};

const v = (r: number, k: number) => r * 10000 + k + 0.5;

export function check(c: Comm): { size: number; wrong: string[]; traffic: Traffic } {
  const { rank, size: p } = c;
  const wrong: string[] = [];
  const traffic: Traffic = {};
  const sent = () => { const m = c.stats().messages; return m.eagerSends + m.rendezvousSends + m.selfSends; };
  const measure = (key: string, fn: () => void) => {
    const e0 = sent(), c0 = collectiveStats().messages;
    fn();
    traffic[key] = [sent() - e0, collectiveStats().messages - c0];
  };
  const expect = (what: string, got: ArrayLike<number | bigint>, want: ArrayLike<number | bigint>) => {
    if (got.length !== want.length) return void wrong.push(`${what}: ${got.length} elements, want ${want.length}`);
    for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) return void wrong.push(`${what}[${i}]: ${got[i]}, want ${want[i]}`);
  };
  const filled = (n: number, f: (k: number) => number): TypedBuffer<Float64Array> => {
    const b = c.alloc(Float64Array, n);
    b.set(Float64Array.from({ length: n }, (_, k) => f(k)));
    return b;
  };
  const range = (n: number) => Array.from({ length: n }, (_, k) => k);

  for (const [name, cnt] of Object.entries(PATTERNS)) {
    const counts = range(p).map((i) => cnt(i, p));
    // One element of gap after every block, so displacements are not the packed ones.
    const displs = counts.map((_, i) => counts.slice(0, i).reduce((a, b) => a + b, 0) + i);
    const total = counts.reduce((a, b) => a + b, 0) + p;
    const laidOut = (blockValue: (i: number, k: number) => number) => {
      const want = new Float64Array(total).fill(-1);
      for (let i = 0; i < p; i++) for (let k = 0; k < counts[i]!; k++) want[displs[i]! + k] = blockValue(i, k);
      return want;
    };

    for (let root = 0; root < p; root++) {
      const at = `${name} root ${root}`;
      const s = filled(counts[rank]!, (k) => v(rank, k));
      const g = rank === root ? filled(total, () => -1) : null;
      measure(`gatherv ${at}`, () => c.gatherv(s, g, rank === root ? counts : null, displs, root));
      if (g) expect(`gatherv ${at}`, g.toArray(), laidOut(v));
      g?.free();
      s.free();

      const sc = rank === root ? filled(total, () => -1) : null;
      sc?.set(laidOut((i, k) => v(i, k) + 0.25));
      const r = filled(counts[rank]!, () => -1);
      measure(`scatterv ${at}`, () => c.scatterv(sc, rank === root ? counts : null, displs, r, root));
      expect(`scatterv ${at}`, r.toArray(), range(counts[rank]!).map((k) => v(rank, k) + 0.25));
      r.free();
      sc?.free();
    }

    { const s = filled(counts[rank]!, (k) => v(rank, k));
      const r = filled(total, () => -1);
      measure(`allgatherv ${name}`, () => c.allgatherv(s, r, counts, displs));
      expect(`allgatherv ${name}`, r.toArray(), laidOut(v));
      s.free(); r.free(); }

    // alltoallv: rank i sends cnt(i + 2j) elements to rank j, packed; receives with gaps.
    { const sc = range(p).map((j) => cnt((rank + 2 * j) % p, p));
      const rc = range(p).map((i) => cnt((i + 2 * rank) % p, p));
      const rd = rc.map((_, i) => rc.slice(0, i).reduce((a, b) => a + b, 0) + i);
      const s = c.alloc(Float64Array, sc.reduce((a, b) => a + b, 0));
      s.set(sc.flatMap((n, j) => range(n).map((k) => v(rank * 100 + j, k))));
      const r = filled(rc.reduce((a, b) => a + b, 0) + p, () => -1);
      measure(`alltoallv ${name}`, () => c.alltoallv(s, sc, null, r, rc, rd));
      const want = new Float64Array(r.count).fill(-1);
      rc.forEach((n, i) => { for (let k = 0; k < n; k++) want[rd[i]! + k] = v(i * 100 + rank, k); });
      expect(`alltoallv ${name}`, r.toArray(), want);
      s.free(); r.free(); }

    // reduceScatter: element k of rank q's input is q + k + 1 (Int32), summed; and a MAX over doubles.
    { const sum = counts.reduce((a, b) => a + b, 0);
      const s = c.alloc(Int32Array, sum);
      s.set(Int32Array.from({ length: sum }, (_, k) => rank + k + 1));
      const r = c.alloc(Int32Array, counts[rank]!);
      measure(`reduceScatter ${name}`, () => c.reduceScatter(s, r, counts, SUM));
      const first = counts.slice(0, rank).reduce((a, b) => a + b, 0);
      expect(`reduceScatter ${name}`, r.toArray(), range(counts[rank]!).map((k) => (p * (p - 1)) / 2 + p * (first + k + 1)));
      const sm = filled(sum, (k) => ((rank * 7 + k) % 5) + rank / 8);
      const rm = filled(counts[rank]!, () => -1);
      c.reduceScatter(sm, rm, counts, MAX);
      expect(`reduceScatter MAX ${name}`, rm.toArray(), range(counts[rank]!).map((k) => Math.max(...range(p).map((q) => ((q * 7 + first + k) % 5) + q / 8))));
      s.free(); r.free(); sm.free(); rm.free(); }
  }

  // reduceScatterBlock: 3 elements per rank.
  { const s = c.alloc(Int32Array, 3 * p);
    s.set(Int32Array.from({ length: 3 * p }, (_, k) => rank * k));
    const r = c.alloc(Int32Array, 3);
    measure('reduceScatterBlock', () => c.reduceScatterBlock(s, r, SUM));
    expect('reduceScatterBlock', r.toArray(), range(3).map((k) => ((p * (p - 1)) / 2) * (3 * rank + k)));
    s.free(); r.free(); }

  // scan / exscan (scantst, exscan): element k of rank q's input is q + k + 1; sizes eager and rendezvous.
  for (const n of [0, 5, 4000]) {
    const s = c.alloc(Int32Array, n);
    s.set(Int32Array.from({ length: n }, (_, k) => rank + k + 1));
    const r = c.alloc(Int32Array, n);
    r.set(new Int32Array(n).fill(-7));
    const prefix = (upTo: number) => range(n).map((k) => range(upTo).reduce((a, q) => a + q + k + 1, 0));
    measure(`scan ${n}`, () => c.scan(s, r, SUM));
    expect(`scan ${n}`, r.toArray(), prefix(rank + 1));
    r.set(new Int32Array(n).fill(-7));
    measure(`exscan ${n}`, () => c.exscan(s, r, SUM));
    expect(`exscan ${n}`, r.toArray(), rank === 0 ? new Array<number>(n).fill(-7) : prefix(rank));
    // in place
    c.scan(s, s, SUM);
    expect(`scan in place ${n}`, s.toArray(), prefix(rank + 1));
    s.free(); r.free();
  }
  // Concatenation is not commutative: the results show the order of evaluation.
  const order = (upTo: number) => range(upTo).join('');
  const got = c.scanObject(String(rank), (a, b) => a + b);
  if (got !== order(rank + 1)) wrong.push(`scanObject: ${got}, want ${order(rank + 1)}`);
  const ex = c.exscanObject(String(rank), (a, b) => a + b);
  if (ex !== (rank === 0 ? undefined : order(rank))) wrong.push(`exscanObject: ${String(ex)}, want ${order(rank)}`);
  const sums = c.scanObject([rank, 1], SUM);
  if (JSON.stringify(sums) !== JSON.stringify([(rank * (rank + 1)) / 2, rank + 1])) wrong.push(`scanObject SUM: ${JSON.stringify(sums)}`);

  // Bad arguments fail on every rank before any traffic.
  try {
    c.allgatherv(c.alloc(Float64Array, 1), c.alloc(Float64Array, p), range(p + 1).map(() => 1));
    wrong.push('allgatherv with p + 1 counts did not throw');
  } catch (e) {
    if ((e as { code?: string }).code !== 'MPI_ERR_ARG') wrong.push(`allgatherv bad counts: ${String(e)}`);
  }
  return { size: p, wrong, traffic };
}

// 8 ranks check the world, then groups of 1, 2 and 5, then 3, 4 and 1 (split keys reversed, so a
// group rank is never the world rank).
export function main(world: Comm) {
  const reports = [check(world)];
  for (const groups of [[1, 2, 5], [3, 4, 1]]) {
    let color = 0;
    for (let edge = 0, g = 0; g < groups.length; edge += groups[g]!, g++) if (world.rank >= edge) color = g;
    reports.push(check(world.split(color, -world.rank)!));
  }
  return { worldRank: world.rank, reports, algorithms: collectiveStats().algorithms };
}
