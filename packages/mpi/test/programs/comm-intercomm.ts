// Intercommunicators, in the spirit of MPICH's test/mpi/comm (ic1, icm, dupic, icgroup) and
// test/mpi/coll (icbarrier, icbcast, icreduce, icallreduce, icgather, icscatter, icallgather,
// icalltoall), over three shapes of MTestGetIntercomm's kind: the world cut in halves, even
// against odd ranks, and rank 0 alone against the rest. Each rank reports what it received.
import { ANY_SOURCE, PROC_NULL, ROOT, Request, SUM, init, type Intercomm } from '@tsmpi/mpi';
import { errorCodeOf } from './checks.js';

const world = init();
const { rank, size } = world;

const SHAPES = {
  halves: (r: number, n: number) => (r < Math.ceil(n / 2) ? 0 : 1),
  interleaved: (r: number) => r % 2,
  oneVsRest: (r: number) => (r === 0 ? 0 : 1),
} as const;

/** The world ranks of a shape's two groups, each in world order. */
function groupsOf(color: (r: number, n: number) => number): number[][] {
  const g: number[][] = [[], []];
  for (let r = 0; r < size; r++) g[color(r, size)]!.push(r);
  return g;
}

function collectives(ic: Intercomm, left: boolean) {
  const out: Record<string, unknown> = {};
  const R = ic.remoteSize;
  const ints = (n: number) => ic.alloc(Int32Array, n);
  ic.barrier();
  for (const rootGroup of [0, 1]) {
    const inRootGroup = (rootGroup === 0) === left;
    // the root is rank 0 of the root group (rank R - 1 for the second round, to move it off the leader)
    const rootRank = rootGroup === 0 ? 0 : (left ? R : ic.size) - 1;
    const root = inRootGroup ? (ic.rank === rootRank ? ROOT : PROC_NULL) : rootRank;
    const res: Record<string, unknown> = {};
    // bcast
    const b = ints(3);
    if (root === ROOT) b.set([rank, rank + 1, rank + 2]);
    ic.bcast(b, root);
    if (!inRootGroup) res.bcast = Array.from(b.toArray());
    // reduce: the root receives the sum over the other group
    const s = ints(2);
    s.set([rank, 1]);
    const r = root === ROOT ? ints(2) : null;
    ic.reduce(s, r, SUM, root);
    if (r) res.reduce = Array.from(r.toArray());
    // gather: two ints per remote rank at the root
    const gs = ints(2);
    gs.set([rank, rank * 10]);
    const gr = root === ROOT ? ints(2 * R) : null;
    ic.gather(inRootGroup ? null : gs, gr, root);
    if (gr) res.gather = Array.from(gr.toArray());
    // scatter: two ints per remote rank from the root
    const ss = root === ROOT ? ints(2 * R) : null;
    ss?.set(Array.from({ length: 2 * R }, (_, i) => 1000 * rank + i));
    const sr = ints(2);
    ic.scatter(ss, inRootGroup ? null : sr, root);
    if (!inRootGroup) res.scatter = Array.from(sr.toArray());
    out[`root${rootGroup}`] = res;
  }
  const a = ints(2);
  a.set([rank, 1]);
  const ar = ints(2);
  ic.allreduce(a, ar, SUM);
  out.allreduce = Array.from(ar.toArray());
  const ag = ints(R);
  ic.allgather(a.subarray(0, 1), ag);
  out.allgather = Array.from(ag.toArray());
  const ts = ints(R);
  ts.set(Array.from({ length: R }, (_, q) => rank * 100 + q));
  const tr = ints(R);
  ic.alltoall(ts, tr);
  out.alltoall = Array.from(tr.toArray());
  out.badRoot = errorCodeOf(() => ic.bcast(b1(ic), R + 5));
  return out;
}

const b1 = (ic: Intercomm) => ic.alloc(Int32Array, 1);

export function main() {
  const out: Record<string, unknown> = {};
  for (const [name, color] of Object.entries(SHAPES)) {
    const groups = groupsOf(color);
    const mine = color(rank, size);
    const left = mine === 0;
    const local = world.split(mine, rank)!;
    const ic = local.intercommCreate(0, world, groups[1 - mine]![0]!, 12);
    const res: Record<string, unknown> = {
      isInter: ic.isInter, worldIsInter: world.isInter, size: ic.size, rank: ic.rank, remoteSize: ic.remoteSize,
      localGroup: ic.group().translateRanks([...Array(ic.size).keys()], world.group()),
      remoteGroup: ic.remoteGroup().translateRanks([...Array(ic.remoteSize).keys()], world.group()),
    };
    // p2p: every rank sends its world rank to every remote rank; sources are remote ranks
    const sends = [...Array(ic.remoteSize).keys()].map((q) => ic.isendObject(rank, q, 5));
    const got: [number, unknown][] = [];
    for (let i = 0; i < ic.remoteSize; i++) {
      const st = { source: -9 };
      const v = ic.recvObject(ANY_SOURCE, 5, st);
      got.push([st.source, v]);
    }
    Request.waitAll(sends);
    res.p2p = got.sort((x, y) => x[0] - y[0]);
    res.procNull = ic.recvObject(PROC_NULL, 5) ?? null;
    // dup: a message on the dup never matches a receive on the original
    const d = ic.dup();
    const onDup = d.isendObject(`dup from ${rank}`, 0, 6);
    const onIc = ic.isendObject(`ic from ${rank}`, 0, 6);
    if (ic.rank === 0) {
      res.dupOrder = [...Array(ic.remoteSize).keys()].map((q) => ic.recvObject(q, 6)).concat([...Array(ic.remoteSize).keys()].map((q) => d.recvObject(q, 6)));
    }
    Request.waitAll([onDup, onIc]);
    res.compare = { dup: ic.compare(d), world: ic.compare(world), self: ic.compare(ic) };
    // merge (icm): the high group goes second; with the same high, the group holding world rank 0 first
    const m1 = ic.merge(left);
    const m2 = ic.merge(!left);
    const m3 = ic.merge(false);
    const ranksOf = (c: typeof m1) => c.group().translateRanks([...Array(c.size).keys()], world.group());
    res.merge = { leftHigh: ranksOf(m1), rightHigh: ranksOf(m2), same: ranksOf(m3), rank: m1.rank };
    res.mergedSum = m1.allreduceObject(rank, (x: number, y: number) => x + y);
    res.coll = collectives(ic, left);
    d.free();
    ic.free();
    res.freed = errorCodeOf(() => ic.barrier());
    out[name] = res;
  }
  out.errors = {
    leader: errorCodeOf(() => world.intercommCreate(size, world, 0, 1)),
    // the leader names itself as the remote leader: its whole group fails alike
    selfAsRemote: errorCodeOf(() => world.intercommCreate(0, world, 0, 2)),
  };
  return out;
}
