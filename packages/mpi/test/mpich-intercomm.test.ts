import { describe, expect, it } from 'vitest';
import { CONGRUENT, IDENT, UNEQUAL, runJob } from '../src/index.js';

const program = new URL('./programs/comm-intercomm.ts', import.meta.url);
const sumOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** The program's three shapes: which of the two groups each world rank is in. */
const SHAPES: Record<string, (r: number, n: number) => number> = {
  halves: (r, n) => (r < Math.ceil(n / 2) ? 0 : 1),
  interleaved: (r) => r % 2,
  oneVsRest: (r) => (r === 0 ? 0 : 1),
};

function expected(shape: (r: number, n: number) => number, np: number, me: number) {
  const groups: number[][] = [[], []];
  for (let r = 0; r < np; r++) groups[shape(r, np)]!.push(r);
  const mine = shape(me, np);
  const [local, remote] = [groups[mine]!, groups[1 - mine]!];
  const myRank = local.indexOf(me);
  const coll: Record<string, unknown> = {};
  for (const rootGroup of [0, 1]) {
    const rootWorld = groups[rootGroup]![rootGroup === 0 ? 0 : groups[rootGroup]!.length - 1]!;
    const other = groups[1 - rootGroup]!;
    if (mine === rootGroup) {
      coll[`root${rootGroup}`] = me === rootWorld ? { reduce: [sumOf(other), other.length], gather: other.flatMap((w) => [w, w * 10]) } : {};
    } else {
      const k = other.indexOf(me);
      coll[`root${rootGroup}`] = { bcast: [rootWorld, rootWorld + 1, rootWorld + 2], scatter: [1000 * rootWorld + 2 * k, 1000 * rootWorld + 2 * k + 1] };
    }
  }
  Object.assign(coll, {
    allreduce: [sumOf(remote), remote.length], allgather: remote, alltoall: remote.map((w) => w * 100 + myRank), badRoot: 'MPI_ERR_ARG',
  });
  const merged = [...groups[1]!, ...groups[0]!];
  return {
    isInter: true, worldIsInter: false, size: local.length, rank: myRank, remoteSize: remote.length, localGroup: local, remoteGroup: remote,
    p2p: remote.map((w, q) => [q, w]),
    procNull: null,
    ...(myRank === 0 ? { dupOrder: [...remote.map((w) => `ic from ${w}`), ...remote.map((w) => `dup from ${w}`)] } : {}),
    compare: { dup: CONGRUENT, world: UNEQUAL, self: IDENT },
    merge: { leftHigh: merged, rightHigh: [...groups[0]!, ...groups[1]!], same: [...groups[0]!, ...groups[1]!], rank: merged.indexOf(me) },
    mergedSum: sumOf([...Array(np).keys()]),
    coll,
    freed: 'MPI_ERR_COMM',
  };
}

describe('intercommunicators (MPICH comm/ic1, icm, dupic, icgroup and coll/ic* in spirit)', () => {
  for (const [np, nodes] of [[2, 1], [3, 2], [5, 1], [8, 2]] as const) {
    it(`create, p2p, dup, merge and the eight collectives over three shapes on ${np} ranks, ${nodes} node(s)`, async () => {
      const r = await runJob({ np, nodes, program });
      expect(r.error).toBeUndefined();
      for (const [me, x] of r.ranks.map((v, i) => [i, v.value as any] as const)) {
        for (const [name, shape] of Object.entries(SHAPES)) expect({ name, ...x[name] }).toEqual({ name, ...expected(shape, np, me) });
        expect(x.errors).toEqual({ leader: 'MPI_ERR_ARG', selfAsRemote: 'MPI_ERR_COMM' });
      }
    });
  }
});
