import { bcastSchedule } from '../collectives/bcast.js';
import { startSchedule } from '../collectives/nonblocking.js';
import { temporary, type Schedule } from '../collectives/schedule.js';
import { COMM_TYPE_SHARED, UNDEFINED } from '../constants.js';
import { InvalidArgument, InvalidGroup, TAG_UB } from '../errors.js';
import { Group } from '../group.js';
import type { Request } from '../request.js';
import { kCollective } from '../symbols.js';
import { Comm } from '../comm.js';
import { checkDrawn, freshContext, leaderContext } from './context.js';

/**
 * Communicators made from groups (MPI_Comm_create, MPI_Comm_create_group), by node
 * (MPI_Comm_split_type), and without blocking (MPI_Comm_idup).
 */

/**
 * Collective over `comm`: the members of `group` get a communicator over it, in the group's order;
 * the other ranks get null. Ranks may pass different groups as long as the groups are disjoint
 * (MPI-2.2): each group becomes its own communicator.
 */
export function commCreate(comm: Comm, group: Group): Comm | null {
  checkSubgroup('commCreate', comm, group);
  const context = leaderContext(comm[kCollective], comm.runtime, 'commCreate');
  return group.rank === UNDEFINED ? null : new Comm(comm.runtime, group.members, context);
}

/** Twin tags commCreateGroup's agreement uses: above the collectives' tags, below the dup/split agreement's. */
const CREATE_GROUP_TAGS = 0x2000_0000;

/**
 * Collective over `group` only (MPI_Comm_create_group): the other ranks of `comm` take no part.
 * Concurrent calls over overlapping groups are told apart by `tag`.
 */
export function commCreateGroup(comm: Comm, group: Group, tag: number): Comm {
  checkSubgroup('commCreateGroup', comm, group);
  if (!Number.isInteger(tag) || tag < 0 || tag > TAG_UB) throw new InvalidArgument('tag', `commCreateGroup(): expected an integer in [0, ${TAG_UB}], got ${String(tag)}`);
  if (group.rank === UNDEFINED) {
    throw new InvalidGroup('commCreateGroup(): this rank is not in the group; only the group\'s members call it (the others use commCreate or nothing)');
  }
  // The agreement runs over the group's members on the parent's twin context, under a tag of its own.
  const members = new Comm(comm.runtime, group.members, comm.context + 1);
  const context = leaderContext({
    rank: members.rank,
    size: members.size,
    sendObject: (v, dest) => members.sendObject(v, dest, CREATE_GROUP_TAGS + (tag % (CREATE_GROUP_TAGS - 1))),
    recvObject: <V>(source?: number) => members.recvObject<V>(source, CREATE_GROUP_TAGS + (tag % (CREATE_GROUP_TAGS - 1))),
  }, comm.runtime, 'commCreateGroup');
  return new Comm(comm.runtime, group.members, context);
}

/**
 * Nonblocking dup (MPI_Comm_idup): rank 0 draws the context in the call and a nonblocking bcast
 * (the nonblocking collectives' machinery, so it progresses as an ibcast does) carries it to the
 * others; the request's `value` is the new communicator once it completes.
 */
export function idup(comm: Comm): Request {
  const offer = comm.rank === 0 ? freshContext(comm.runtime) : 0;
  const box: { made?: Comm; req?: Request } = {};
  const agreed = (context: number) => {
    box.made = new Comm(comm.runtime, comm.members, context);
    if (box.req) box.req.objectValue = box.made;
  };
  const req = startSchedule(comm, 'idup', (tag) => agreeSchedule(comm, offer, tag, agreed));
  box.req = req;
  req.hasObject = true;
  if (box.made) req.objectValue = box.made;
  return req;
}

function* agreeSchedule(comm: Comm, offer: number, tag: number, agreed: (context: number) => void): Schedule {
  const b = temporary(comm, Int32Array, 1);
  try {
    b.set([offer]);
    yield* bcastSchedule(comm, b, 0, tag);
    agreed(checkDrawn(b.toArray()[0]!, 'idup'));
  } finally {
    b.free();
  }
}

/**
 * MPI_Comm_split_type: COMM_TYPE_SHARED groups the ranks of one simulated node (the ranks that
 * share its physical memory), ordered by `key` then by rank; UNDEFINED gives null.
 */
export function splitType(comm: Comm, type: number, key: number): Comm | null {
  if (type !== COMM_TYPE_SHARED && type !== UNDEFINED) {
    throw new InvalidArgument('type', `splitType(): expected COMM_TYPE_SHARED or UNDEFINED, got ${String(type)}`);
  }
  return comm.split(type === UNDEFINED ? UNDEFINED : comm.runtime.node, key);
}

function checkSubgroup(op: string, comm: Comm, group: Group): void {
  if (!(group instanceof Group)) throw new InvalidArgument('group', `${op}(): expected a Group from comm.group(), got ${String(group)}`);
  const inComm = new Set(comm.members);
  const stranger = group.members.find((w) => !inComm.has(w));
  if (stranger !== undefined) {
    throw new InvalidGroup(`${op}(): world rank ${stranger} is in the group but not in this communicator; build the group from comm.group()`);
  }
}
