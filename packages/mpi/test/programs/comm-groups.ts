// Groups, in the spirit of MPICH's test/mpi/group (grouptest, gtranks, groupnullincl) and
// comm_group_half: every operation is local, so each rank reports what it computed and the test
// checks it against MPI's definitions.
import { COMM_TYPE_SHARED, GROUP_EMPTY, PROC_NULL, init, type Group } from '@tsmpi/mpi';
import { errorCodeOf } from './checks.js';

const world = init();
const { rank, size } = world;

const view = (g: Group) => ({ size: g.size, rank: g.rank, world: g.translateRanks([...Array(g.size).keys()], world.group()) });

export function main() {
  const g = world.group();
  const all = [...Array(size).keys()];
  // incl with this rank first: it is rank 0 of the new group
  const others = all.filter((r) => r !== rank);
  const incl = g.incl([rank, ...others.slice(0, 2)]);
  const excl = g.excl([rank]);
  const evens = g.rangeIncl([[0, size - 1, 2]]);
  const down = g.rangeIncl([[size - 1, 0, -1]]);
  const notEvens = g.rangeExcl([[0, size - 1, 2]]);
  const union = evens.union(notEvens);
  const inter = down.intersection(evens);
  const diff = g.difference(evens);
  const self = world.splitType(COMM_TYPE_SHARED, 0)?.group(); // one node: the whole world
  return {
    world: view(g),
    incl: view(incl),
    excl: view(excl),
    evens: view(evens),
    down: view(down),
    notEvens: view(notEvens),
    union: view(union),
    inter: view(inter),
    diff: view(diff),
    // translate through a group of this rank alone, PROC_NULL stays PROC_NULL
    toSelf: g.translateRanks([PROC_NULL, ...all, PROC_NULL], g.incl([rank])),
    compare: {
      sameOrder: g.compare(world.group()),
      reordered: g.compare(down),
      unionVsWorld: union.compare(g),
      evensVsWorld: evens.compare(g),
      emptyIncl: g.incl([]).compare(GROUP_EMPTY),
      emptyDiff: g.difference(g).compare(GROUP_EMPTY),
      sharedNode: self ? self.compare(g) : -1,
    },
    empty: { size: GROUP_EMPTY.size, rank: GROUP_EMPTY.rank, unionRank: GROUP_EMPTY.union(g).rank },
    errors: {
      inclOutOfRange: errorCodeOf(() => g.incl([size])),
      inclTwice: errorCodeOf(() => g.incl([0, 0])),
      exclNegative: errorCodeOf(() => g.excl([-1])),
      rangeZeroStride: errorCodeOf(() => g.rangeIncl([[0, 1, 0]])),
      rangeWrongWay: errorCodeOf(() => g.rangeIncl([[size - 1, 0, 1]])),
      notAGroup: errorCodeOf(() => g.union({} as Group)),
    },
  };
}
