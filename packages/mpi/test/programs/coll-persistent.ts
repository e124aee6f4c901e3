// Persistent collectives (MPICH test/mpi/coll p_* in spirit: p_barrier, p_bcast, p_red, p_allred,
// p_gather(v), p_scatter(v), p_allgather(v), p_alltoall(v), p_redscat, p_red_scat_block, p_scan,
// p_exscan, p_inactive): each is initialised once, then started and completed three times with new
// data each time, and freed. Also: an inactive request completes at once with the empty status, a
// start while active and a free while active are refused, and the long allreduce's registrations
// are taken once: no start after the first registers anything or asks the cache.
import { MAX, Request, SUM, type Comm } from '@tsmpi/mpi';
import { elementChecker, errorCodeOf } from './checks.js';

export function main(c: Comm) {
  const { rank, size: p } = c;
  const wrong: string[] = [];
  const expect = elementChecker(wrong);
  const seq = (n: number, f: (i: number) => number) => Float64Array.from({ length: n }, (_, i) => f(i));
  const v = (q: number, it: number, i: number) => q * 1000 + it * 100 + i;
  const n = 5;
  const root = p - 1;
  const runs = 3;

  const sb = c.alloc(Float64Array, n * p);
  const rb = c.alloc(Float64Array, n * p);
  const one = c.alloc(Float64Array, n);
  const counts = Array.from({ length: p }, (_, i) => 1 + (i % 3));
  const displs = counts.map((_, i) => counts.slice(0, i).reduce((a, b) => a + b, 0));
  const total = counts.reduce((a, b) => a + b, 0);
  const vb = c.alloc(Float64Array, total);

  const cases: [string, Request, (it: number) => void, (it: number) => void][] = [
    ['barrier', c.barrierInit(), () => {}, () => {}],
    ['bcast', c.bcastInit(one, root), (it) => one.set(rank === root ? seq(n, (i) => v(root, it, i)) : new Float64Array(n)),
      (it) => expect('bcast', one.toArray(), seq(n, (i) => v(root, it, i)))],
    ['reduce', c.reduceInit(one, rb.subarray(0, n), SUM, root), (it) => one.set(seq(n, (i) => v(rank, it, i))),
      (it) => rank === root && expect('reduce', rb.subarray(0, n).toArray(), seq(n, (i) => Array.from({ length: p }, (_, q) => v(q, it, i)).reduce((a, b) => a + b)))],
    ['allreduce', c.allreduceInit(one, rb.subarray(0, n), MAX), (it) => one.set(seq(n, (i) => v(rank, it, i))),
      (it) => expect('allreduce', rb.subarray(0, n).toArray(), seq(n, (i) => v(p - 1, it, i)))],
    ['gather', c.gatherInit(one, rb, root), (it) => one.set(seq(n, (i) => v(rank, it, i))),
      (it) => rank === root && expect('gather', rb.toArray(), seq(n * p, (i) => v(Math.floor(i / n), it, i % n)))],
    ['scatter', c.scatterInit(sb, one, root), (it) => sb.set(seq(n * p, (i) => v(Math.floor(i / n), it, i % n))),
      (it) => expect('scatter', one.toArray(), seq(n, (i) => v(rank, it, i)))],
    ['allgather', c.allgatherInit(one, rb), (it) => one.set(seq(n, (i) => v(rank, it, i))),
      (it) => expect('allgather', rb.toArray(), seq(n * p, (i) => v(Math.floor(i / n), it, i % n)))],
    ['alltoall', c.alltoallInit(sb, rb), (it) => sb.set(seq(n * p, (i) => v(rank, it, i))),
      (it) => expect('alltoall', rb.toArray(), seq(n * p, (i) => v(Math.floor(i / n), it, rank * n + (i % n))))],
    ['gatherv', c.gathervInit(vb.subarray(0, counts[rank]!), rb.subarray(0, total), counts, displs, root),
      (it) => vb.subarray(0, counts[rank]!).set(seq(counts[rank]!, (i) => v(rank, it, i))),
      (it) => rank === root && expect('gatherv', rb.subarray(0, total).toArray(), seq(total, (i) => { const q = displs.findLastIndex((d) => d <= i); return v(q, it, i - displs[q]!); }))],
    ['scatterv', c.scattervInit(vb, counts, displs, rb.subarray(0, counts[rank]!), root),
      (it) => vb.set(seq(total, (i) => { const q = displs.findLastIndex((d) => d <= i); return v(q, it, i - displs[q]!); })),
      (it) => expect('scatterv', rb.subarray(0, counts[rank]!).toArray(), seq(counts[rank]!, (i) => v(rank, it, i)))],
    ['allgatherv', c.allgathervInit(one.subarray(0, counts[rank]!), vb, counts),
      (it) => one.set(seq(n, (i) => v(rank, it, i))),
      (it) => expect('allgatherv', vb.toArray(), seq(total, (i) => { const q = displs.findLastIndex((d) => d <= i); return v(q, it, i - displs[q]!); }))],
    ['alltoallv', c.alltoallvInit(sb, new Array(p).fill(n), null, rb, new Array(p).fill(n)), (it) => sb.set(seq(n * p, (i) => v(rank, it, i))),
      (it) => expect('alltoallv', rb.toArray(), seq(n * p, (i) => v(Math.floor(i / n), it, rank * n + (i % n))))],
    ['reduceScatter', c.reduceScatterInit(sb, rb.subarray(0, n), new Array(p).fill(n), SUM), (it) => sb.set(seq(n * p, (i) => v(rank, it, i))),
      (it) => expect('reduceScatter', rb.subarray(0, n).toArray(), seq(n, (i) => Array.from({ length: p }, (_, q) => v(q, it, rank * n + i)).reduce((a, b) => a + b)))],
    ['reduceScatterBlock', c.reduceScatterBlockInit(sb, rb.subarray(0, n), MAX), (it) => sb.set(seq(n * p, (i) => v(rank, it, i))),
      (it) => expect('reduceScatterBlock', rb.subarray(0, n).toArray(), seq(n, (i) => v(p - 1, it, rank * n + i)))],
    ['scan', c.scanInit(one, rb.subarray(0, n), SUM), (it) => one.set(seq(n, (i) => v(rank, it, i))),
      (it) => expect('scan', rb.subarray(0, n).toArray(), seq(n, (i) => Array.from({ length: rank + 1 }, (_, q) => v(q, it, i)).reduce((a, b) => a + b)))],
    ['exscan', c.exscanInit(one, rb.subarray(0, n), SUM), (it) => one.set(seq(n, (i) => v(rank, it, i))),
      (it) => rank > 0 && expect('exscan', rb.subarray(0, n).toArray(), seq(n, (i) => Array.from({ length: rank }, (_, q) => v(q, it, i)).reduce((a, b) => a + b)))],
  ];
  // p_inactive: never started, complete at once with the empty status
  const inactive = cases.map(([, r]) => r.wait().source === -1 && r.test()?.tag === -1);
  for (let it = 0; it < runs; it++) {
    for (const [, r, before, after] of cases) {
      before(it);
      r.start();
      r.wait();
      after(it);
    }
  }
  // several at once, completed together (p_order: every rank starts them in one order)
  Request.startAll(cases.slice(0, 4).map(([, r]) => r));
  Request.waitAll(cases.slice(0, 4).map(([, r]) => r));
  const b = cases[0]![1];
  b.start();
  // on one rank the barrier is complete as soon as it starts
  const startActive = p === 1 ? 'n/a' : errorCodeOf(() => b.start());
  const freeActive = p === 1 ? 'n/a' : errorCodeOf(() => b.free());
  b.wait();
  for (const [, r] of cases) r.free();
  const startFreed = errorCodeOf(() => b.start());

  // registrations: a long allreduce (2 × 64 KiB, rendezvous) held from init to free
  const big = 8192;
  const s = c.alloc(Float64Array, big);
  const r = c.alloc(Float64Array, big);
  const rc = () => { const x = c.stats().rcache as { gets: number; registrations: number }; return { gets: x.gets, registrations: x.registrations }; };
  const req = c.allreduceInit(s, r, SUM);
  const atInit = rc();
  const deltas: { gets: number; registrations: number }[] = [];
  let last = atInit;
  for (let it = 0; it < 4; it++) {
    s.set(seq(big, (i) => v(rank, it, i % 100)));
    req.start();
    req.wait();
    expect(`long allreduce ${it}`, r.toArray(), seq(big, (i) => Array.from({ length: p }, (_, q) => v(q, it, i % 100)).reduce((a, b) => a + b)));
    const now = rc();
    deltas.push({ gets: now.gets - last.gets, registrations: now.registrations - last.registrations });
    last = now;
  }
  req.free();
  // the same allreduce, not persistent, for comparison
  const before = rc();
  for (let it = 0; it < 3; it++) c.allreduce(s, r, SUM);
  const after = rc();
  return {
    wrong, inactive, startActive, freeActive, startFreed, deltas,
    blocking: { gets: after.gets - before.gets, registrations: after.registrations - before.registrations },
  };
}
