import { IDENT, PROC_NULL, SIMILAR, UNDEFINED, UNEQUAL } from './constants.js';
import { InvalidArgument, InvalidGroup } from './errors.js';

/** A (first, last, stride) triplet of Group.rangeIncl / rangeExcl (MPI's ranges argument). */
export type RankRange = readonly [first: number, last: number, stride: number];

/**
 * An ordered set of processes (MPI_Group): what a communicator is made of, without a context.
 * Every operation is local and makes a new group; members are kept as world ranks, so groups of
 * different communicators compare and combine directly. A rank outside the group sees rank
 * UNDEFINED.
 */
export class Group {
  /** This process's rank in the group, or UNDEFINED when it is not a member. */
  readonly rank: number;
  readonly size: number;
  /** @internal world rank of each member, in group order */ readonly members: readonly number[];
  /** @internal this process's world rank (-1 for GROUP_EMPTY, which knows no process) */ readonly self: number;

  /** @internal comm.group(), comm.remoteGroup() and the operations below make groups */
  constructor(members: readonly number[], self: number) {
    this.members = members;
    this.self = self;
    this.size = members.length;
    const r = members.indexOf(self);
    this.rank = r < 0 ? UNDEFINED : r;
  }

  /** The members at `ranks`, in that order (MPI_Group_incl). */
  incl(ranks: readonly number[]): Group {
    this.checkRanks('incl', ranks);
    return this.make(ranks.map((r) => this.members[r]!));
  }

  /** Every member but those at `ranks`, in group order (MPI_Group_excl). */
  excl(ranks: readonly number[]): Group {
    this.checkRanks('excl', ranks);
    const out = new Set(ranks);
    return this.make(this.members.filter((_, r) => !out.has(r)));
  }

  /** The members of each (first, last, stride) range, range after range (MPI_Group_range_incl). */
  rangeIncl(ranges: readonly RankRange[]): Group {
    return this.incl(this.expand('rangeIncl', ranges));
  }

  /** Every member outside the ranges, in group order (MPI_Group_range_excl). */
  rangeExcl(ranges: readonly RankRange[]): Group {
    return this.excl(this.expand('rangeExcl', ranges));
  }

  /** This group's members, then the other's that are not in it (MPI_Group_union). */
  union(other: Group): Group {
    checkGroup('union', other);
    const mine = new Set(this.members);
    return this.make([...this.members, ...other.members.filter((w) => !mine.has(w))], other);
  }

  /** This group's members that are also in the other, in this group's order (MPI_Group_intersection). */
  intersection(other: Group): Group {
    checkGroup('intersection', other);
    const theirs = new Set(other.members);
    return this.make(this.members.filter((w) => theirs.has(w)), other);
  }

  /** This group's members that are not in the other, in this group's order (MPI_Group_difference). */
  difference(other: Group): Group {
    checkGroup('difference', other);
    const theirs = new Set(other.members);
    return this.make(this.members.filter((w) => !theirs.has(w)), other);
  }

  /** The rank in `other` of each of `ranks` of this group: UNDEFINED if absent there, PROC_NULL stays PROC_NULL (MPI_Group_translate_ranks). */
  translateRanks(ranks: readonly number[], other: Group): number[] {
    checkGroup('translateRanks', other);
    this.checkRanks('translateRanks', ranks.filter((r) => r !== PROC_NULL), true);
    const where = new Map(other.members.map((w, r) => [w, r]));
    return ranks.map((r) => (r === PROC_NULL ? PROC_NULL : (where.get(this.members[r]!) ?? UNDEFINED)));
  }

  /** IDENT: same members in the same order; SIMILAR: same members, another order; UNEQUAL otherwise (MPI_Group_compare). */
  compare(other: Group): number {
    checkGroup('compare', other);
    return compareMembers(this.members, other.members);
  }

  private make(members: readonly number[], other?: Group): Group {
    return new Group(members, this.self >= 0 ? this.self : (other?.self ?? -1));
  }

  private checkRanks(op: string, ranks: readonly number[], repeatsAllowed = false): void {
    if (!Array.isArray(ranks)) throw new InvalidArgument('ranks', `${op}(): expected an array of ranks, got ${String(ranks)}`);
    const seen = new Set<number>();
    for (const r of ranks) {
      if (!Number.isInteger(r) || r < 0 || r >= this.size) {
        throw new InvalidGroup(`${op}(): rank ${String(r)} is not in this group of size ${this.size}; use ranks in [0, ${this.size - 1}]`);
      }
      if (!repeatsAllowed && seen.has(r)) throw new InvalidGroup(`${op}(): rank ${r} is named twice; name each rank once`);
      seen.add(r);
    }
  }

  private expand(op: string, ranges: readonly RankRange[]): number[] {
    const out: number[] = [];
    for (const range of ranges) {
      const [first, last, stride] = range;
      if (![first, last, stride].every(Number.isInteger) || stride === 0) {
        throw new InvalidArgument('ranges', `${op}(): [${String(range)}] is not a (first, last, stride) triplet of integers with stride != 0`);
      }
      if ((last - first) * stride < 0) {
        throw new InvalidGroup(`${op}(): range [${first}, ${last}, ${stride}] never reaches ${last} from ${first}; flip the stride's sign`);
      }
      for (let r = first; stride > 0 ? r <= last : r >= last; r += stride) out.push(r);
    }
    return out;
  }
}

/** The group with no members (MPI_GROUP_EMPTY). */
export const GROUP_EMPTY = new Group([], -1);

/** @internal IDENT, SIMILAR or UNEQUAL for two member lists (world ranks). */
export function compareMembers(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) return UNEQUAL;
  if (a.every((w, i) => w === b[i])) return IDENT;
  const set = new Set(a);
  return b.every((w) => set.has(w)) ? SIMILAR : UNEQUAL;
}

function checkGroup(op: string, g: unknown): asserts g is Group {
  if (!(g instanceof Group)) throw new InvalidArgument('group', `${op}(): expected a Group from comm.group() or GROUP_EMPTY, got ${String(g)}`);
}
