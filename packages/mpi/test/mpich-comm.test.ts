import { describe, expect, it } from 'vitest';
import { CONGRUENT, IDENT, SIMILAR, UNEQUAL, nodeOfRank, runJob } from '../src/index.js';

const program = new URL('./programs/comm-create.ts', import.meta.url);
const range = (n: number) => [...Array(n).keys()];
const sumOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('communicator creation and life (MPICH test/mpi/comm in spirit)', () => {
  for (const [np, nodes] of [[1, 1], [2, 2], [5, 1], [8, 2]] as const) {
    it(`commCreate, commCreateGroup, idup, names, compare, free, splitType, ctxalloc on ${np} ranks, ${nodes} node(s)`, async () => {
      const r = await runJob({ np, nodes, program });
      expect(r.error).toBeUndefined();
      const evens = range(np).filter((x) => x % 2 === 0);
      const odds = range(np).filter((x) => x % 2 === 1);
      const half = Math.ceil(np / 2);
      for (const [me, x] of r.ranks.map((v, i) => [i, v.value as any] as const)) {
        const left = (me - 1 + np) % np;
        // Comm_create over the evens: the odds get null
        expect(x.create).toEqual(me % 2 ? null : { size: evens.length, rank: me / 2, sum: sumOf(evens) });
        const mine = me % 2 ? odds : evens;
        const at = mine.indexOf(me);
        expect(x.createDisjoint).toEqual({ size: mine.length, rank: at, sum: sumOf(mine), ring: mine[(at - 1 + mine.length) % mine.length] });
        const lowHalf = me < half ? range(half) : range(np).slice(half);
        expect(x.createGroup).toEqual({ size: lowHalf.length, rank: lowHalf.indexOf(me), sum: sumOf(lowHalf) });
        expect(x.createGroupOutsider).toBe('MPI_ERR_GROUP');
        if (np > 1) {
          expect(x.idupMessages).toEqual([3, 2, 1, 0].map((i) => `dup ${i} from ${left}`));
          expect(x.idupOverlap).toEqual(np === 2 ? [1 - me, 1 - me] : me === 0 ? [1, np - 1] : [me - 1, (me + 1) % np]);
        }
        expect(x.idupCompare).toEqual([CONGRUENT, CONGRUENT, CONGRUENT, CONGRUENT]);
        expect(x.idupSums).toEqual([np, np, np, np]);
        expect(x.names).toEqual({ world: 'MPI_COMM_WORLD', dup: '', set: 'the dup', worldSet: 'everyone', tooLong: 'MPI_ERR_ARG' });
        expect(x.compare).toEqual({
          self: IDENT, dup: CONGRUENT, reversed: np === 1 ? CONGRUENT : SIMILAR,
          evens: me % 2 ? -1 : np === 1 ? CONGRUENT : UNEQUAL, twoDups: CONGRUENT,
        });
        expect(x.free).toEqual({
          delivered: true, sendAfter: 'MPI_ERR_COMM', barrierAfter: 'MPI_ERR_COMM', dupAfter: 'MPI_ERR_COMM', freeAgain: 'MPI_ERR_COMM', freeWorld: 'MPI_ERR_COMM',
        });
        // one communicator per node, ordered by key = -rank
        const onNode = range(np).filter((w) => nodeOfRank(w, np, nodes) === nodeOfRank(me, np, nodes)).reverse();
        expect(x.shared).toEqual({ size: onNode.length, rank: onNode.indexOf(me), members: onNode });
        expect(x.sharedUndefined).toBeNull();
        expect(x.splitTypeBad).toBe('MPI_ERR_ARG');
        expect(x.ctxalloc).toBe(10);
        // the last id is handed out, then every kind of creation fails alike on every rank, typed
        expect(x.exhausted).toEqual({ lastOk: 'no error', dup: 'MPI_ERR_COMM', split: 'MPI_ERR_COMM', idup: 'MPI_ERR_COMM' });
        expect(x.constants).toEqual([IDENT, CONGRUENT, SIMILAR, UNEQUAL]);
      }
    });
  }
});
