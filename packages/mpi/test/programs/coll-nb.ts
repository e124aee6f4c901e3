// Nonblocking collectives (MPICH test/mpi/coll nonblocking, nonblocking2 in spirit): each i-form
// against its blocking form on the same inputs — same results, same messages — at sizes that
// reach each algorithm; several in flight at once, completed out of order, with a blocking
// collective called in between; test() loops.
import { MAX, Request, SUM, collectiveStats, type Comm } from '@tsmpi/mpi';

const gen = (r: number, n: number, salt = 0) => Float64Array.from({ length: n }, (_, i) => (r + 1) * 0.1 + i * 1e-3 + salt);

export function check(c: Comm) {
  const { rank, size: p } = c;
  const wrong: string[] = [];
  const same = (what: string, a: ArrayLike<number>, b: ArrayLike<number>) => {
    if (a.length !== b.length) return void wrong.push(`${what}: ${a.length} elements, want ${b.length}`);
    for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return void wrong.push(`${what}[${i}]: ${a[i]}, want ${b[i]}`);
  };
  const sent = () => { const m = c.stats().messages; return m.eagerSends + m.rendezvousSends + m.selfSends; };
  const traffic: Record<string, [blocking: number, nonblocking: number]> = {};
  const buf = (n: number, data?: ArrayLike<number>) => { const b = c.alloc(Float64Array, n); if (data) b.set(data); return b; };

  // Runs `blocking` and `nonblocking` on fresh outputs; compares outputs and message counts.
  const pair = (key: string, run: (nb: boolean) => { out: { toArray(): Float64Array } | null; req?: Request }) => {
    let e0 = sent();
    const b = run(false);
    const blockingMsgs = sent() - e0;
    e0 = sent();
    const nb = run(true);
    nb.req!.wait();
    traffic[key] = [blockingMsgs, sent() - e0];
    if (b.out && nb.out) same(key, nb.out.toArray(), b.out.toArray());
  };

  for (const n of [1, 100, 3000]) {
    for (const root of [...new Set([0, p - 1])]) {
      pair(`bcast ${n} root ${root}`, (nb) => {
        const x = buf(n, rank === root ? gen(99, n) : undefined);
        return nb ? { out: x, req: c.ibcast(x, root) } : (c.bcast(x, root), { out: x });
      });
      pair(`reduce ${n} root ${root}`, (nb) => {
        const s = buf(n, gen(rank, n));
        const r = rank === root ? buf(n) : null;
        return nb ? { out: r, req: c.ireduce(s, r, SUM, root) } : (c.reduce(s, r, SUM, root), { out: r });
      });
      pair(`gather ${n} root ${root}`, (nb) => {
        const s = buf(n, gen(rank, n));
        const r = rank === root ? buf(n * p) : null;
        return nb ? { out: r, req: c.igather(s, r, root) } : (c.gather(s, r, root), { out: r });
      });
    }
    pair(`allreduce ${n}`, (nb) => {
      const s = buf(n, gen(rank, n));
      const r = buf(n);
      return nb ? { out: r, req: c.iallreduce(s, r, MAX) } : (c.allreduce(s, r, MAX), { out: r });
    });
    pair(`allgather ${n}`, (nb) => {
      const s = buf(n, gen(rank, n));
      const r = buf(n * p);
      return nb ? { out: r, req: c.iallgather(s, r) } : (c.allgather(s, r), { out: r });
    });
    pair(`alltoall ${n}`, (nb) => {
      const s = buf(n * p, gen(rank * 100, n * p));
      const r = buf(n * p);
      return nb ? { out: r, req: c.ialltoall(s, r) } : (c.alltoall(s, r), { out: r });
    });
  }
  pair('barrier', (nb) => (nb ? { out: null, req: c.ibarrier() } : (c.barrier(), { out: null })));

  // Three in flight, a blocking allreduce in between, completed in reverse order.
  const x = buf(3000, rank === 0 ? gen(7, 3000) : undefined);
  const s = buf(500, gen(rank, 500));
  const r = buf(500);
  const reqs = [c.ibcast(x, 0), c.iallreduce(s, r, SUM), c.ibarrier()];
  const bs = buf(4, [rank, rank, rank, rank]);
  const br = buf(4);
  c.allreduce(bs, br, SUM);
  same('blocking allreduce among nonblocking ones', br.toArray(), new Array(4).fill((p * (p - 1)) / 2));
  reqs[2]!.wait();
  Request.waitAll([reqs[1]!, reqs[0]!]);
  same('ibcast in flight with others', x.toArray(), gen(7, 3000));
  const want = new Float64Array(500);
  for (let q = 0; q < p; q++) { const g = gen(q, 500); for (let i = 0; i < 500; i++) want[i] += g[i]!; }
  const got = r.toArray();
  // a tree sums in another order than this loop: compare to rounding
  if (got.some((v, i) => Math.abs(v - want[i]!) > 1e-9 * Math.abs(want[i]!))) wrong.push('iallreduce in flight with others');

  // test() until done; waitAny over collective and point-to-point requests alike.
  const t = c.iallgather(buf(10, gen(rank, 10)), buf(10 * p));
  let polls = 0;
  while (!t.test()) polls++;
  const mixed = [c.ibarrier(), c.irecv(buf(1), rank, 3), c.isend(buf(1, [rank]), rank, 3)];
  const seen: number[] = [];
  for (;;) { const { index } = Request.waitAny(mixed); if (index < 0) break; seen.push(index); }
  if (seen.sort().join() !== '0,1,2') wrong.push(`waitAny visited ${seen.join()}`);

  return { size: p, wrong, traffic, polls };
}

export function main(world: Comm) {
  const reports = [check(world)];
  for (const groups of [[1, 2, 5], [3, 4, 1]]) {
    let color = 0;
    for (let edge = 0, g = 0; g < groups.length; edge += groups[g]!, g++) if (world.rank >= edge) color = g;
    reports.push(check(world.split(color, -world.rank)!));
  }
  return { reports, algorithms: collectiveStats().algorithms };
}
