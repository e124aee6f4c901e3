import * as ic from '../collectives/intercomm.js';
import type { ReduceOp } from '../collectives/index.js';
import { InvalidArgument, InvalidComm, InvalidGroup, TAG_UB } from '../errors.js';
import { Group } from '../group.js';
import type { RankRuntimeFace } from '../rank/runtime-face.js';
import { kCollective } from '../symbols.js';
import type { TypedBuffer } from '../typed-buffer.js';
import { Comm } from '../comm.js';
import { CONTEXT_TAG, bcastSmall, checkDrawn, freshContext } from './context.js';
import { guardFreed } from './lifecycle.js';
import { CommPointToPoint } from './point-to-point.js';

/**
 * An intercommunicator (MPI-3.1 §6.6): two disjoint groups, local and remote. Point-to-point ranks
 * name the remote group (a send to rank 2 reaches the remote group's rank 2; a status's source is
 * a remote rank); `rank` and `size` are the local group's. Collectives follow §5.2.2 (see
 * collectives/intercomm.ts). merge() makes an intracommunicator of both groups.
 */
export class Intercomm extends CommPointToPoint {
  /** The remote group's size (MPI_Comm_remote_size). */
  readonly remoteSize: number;
  /** @internal world rank of each rank of the remote group */ readonly remoteMembers: readonly number[];
  private twin: Intercomm | undefined;
  private local: Comm | undefined;

  /** @internal created by intercommCreate() and dup() */
  constructor(runtime: RankRuntimeFace, members: readonly number[], remote: readonly number[], context: number) {
    super(runtime, members, context, remote);
    this.remoteMembers = remote;
    this.remoteSize = remote.length;
  }

  override get isInter(): boolean {
    return true;
  }

  /** The collective twin: point-to-point to the remote group on context + 1. */
  get [kCollective](): Intercomm {
    this.twin ??= new Intercomm(this.runtime, this.members, this.remoteMembers, this.context + 1);
    return this.twin;
  }

  /** @internal the local group as an intracommunicator (context + 2) */
  get localComm(): Comm {
    this.local ??= new Comm(this.runtime, this.members, this.context + 2);
    return this.local;
  }

  /** The remote group (MPI_Comm_remote_group). */
  remoteGroup(): Group {
    return new Group(this.remoteMembers, this.runtime.worldRank);
  }

  /** Same groups, new contexts (MPI_Comm_dup on an intercommunicator). Collective over both groups. */
  dup(): Intercomm {
    const context = checkDrawn(agreeAcross(this, null).context, 'dup');
    return new Intercomm(this.runtime, this.members, this.remoteMembers, context);
  }

  /**
   * An intracommunicator over both groups (MPI_Intercomm_merge): the group that passes high=false
   * comes first; if both pass the same, the group holding the lowest world rank does. Every rank
   * of a group passes the same `high`. Collective over both groups.
   */
  merge(high = false): Comm {
    if (typeof high !== 'boolean') throw new InvalidArgument('high', `merge(): expected a boolean, got ${String(high)}`);
    const { context: drawn, remote } = agreeAcross(this, high);
    const context = checkDrawn(drawn, 'merge');
    const mineFirst = high !== remote ? !high : Math.min(...this.members) < Math.min(...this.remoteMembers);
    const members = mineFirst ? [...this.members, ...this.remoteMembers] : [...this.remoteMembers, ...this.members];
    return new Comm(this.runtime, members, context);
  }

  // ───────────────────────── collectives (collectives/intercomm.ts) ─────────────────────────

  barrier(): void {
    ic.icBarrier(this);
  }

  /** root: ROOT at the root, PROC_NULL in the rest of its group, the root's rank in the other group. */
  bcast(buf: TypedBuffer | null, root: number): void {
    ic.icBcast(this, buf, root);
  }

  /** The root receives the reduction of the other group's buffers. */
  reduce(sbuf: TypedBuffer | null, rbuf: TypedBuffer | null, op: ReduceOp, root: number): void {
    ic.icReduce(this, sbuf, rbuf, op, root);
  }

  /** Every rank receives the reduction of the other group's buffers. */
  allreduce(sbuf: TypedBuffer, rbuf: TypedBuffer, op: ReduceOp): void {
    ic.icAllreduce(this, sbuf, rbuf, op);
  }

  /** The root's rbuf holds remoteSize blocks, one per rank of the other group. */
  gather(sbuf: TypedBuffer | null, rbuf: TypedBuffer | null, root: number): void {
    ic.icGather(this, sbuf, rbuf, root);
  }

  /** The root's sbuf holds remoteSize blocks, one per rank of the other group. */
  scatter(sbuf: TypedBuffer | null, rbuf: TypedBuffer | null, root: number): void {
    ic.icScatter(this, sbuf, rbuf, root);
  }

  /** rbuf gets the other group's buffers, remoteSize blocks. */
  allgather(sbuf: TypedBuffer, rbuf: TypedBuffer): void {
    ic.icAllgather(this, sbuf, rbuf);
  }

  /** Block i of sbuf goes to remote rank i; block j of rbuf comes from remote rank j. */
  alltoall(sbuf: TypedBuffer, rbuf: TypedBuffer): void {
    ic.icAlltoall(this, sbuf, rbuf);
  }
}
guardFreed(Intercomm.prototype);

/**
 * The context of a communicator made over both groups: each leader draws one, the leaders swap
 * theirs (with `extra`) on the twin, both keep the one drawn by the lower world rank, and each
 * leader broadcasts it and the remote extra in its group.
 */
function agreeAcross<E>(inter: Intercomm, extra: E): { context: number; remote: E } {
  const local = inter.localComm[kCollective];
  let info: { context: number; remote: E } | undefined;
  if (inter.rank === 0) {
    const mine = freshContext(inter.runtime);
    const theirs = inter[kCollective].sendrecvObject<{ context: number; extra: E }>({ context: mine, extra }, 0, CONTEXT_TAG, 0, CONTEXT_TAG);
    info = { context: lowerLeaders(inter.members[0]!, mine, inter.remoteMembers[0]!, theirs.context), remote: theirs.extra };
  }
  return bcastSmall(local, info, 0)!;
}

/** Of the two leaders' contexts, the one drawn by the lower world rank (both sides pick the same). */
function lowerLeaders(myLeader: number, mine: number, theirLeader: number, theirs: number): number {
  return myLeader < theirLeader ? mine : theirs;
}

type Meeting = { context: number; remote: number[] } | { error: string; group?: true };

/**
 * MPI_Intercomm_create over `local` (see Comm.intercommCreate): the leaders each draw a context
 * and swap it and their groups on `peerComm`, and each leader broadcasts the outcome or the reason it failed, so that every rank of its group returns or throws alike.
 */
export function intercommCreate(local: Comm, localLeader: number, peerComm: Comm | null, remoteLeader: number, tag: number): Intercomm {
  if (!Number.isInteger(localLeader) || localLeader < 0 || localLeader >= local.size) {
    throw new InvalidArgument('localLeader', `intercommCreate(): ${String(localLeader)} is not a rank of this communicator (0..${local.size - 1}); pass the same leader on every rank`);
  }
  if (!Number.isInteger(tag) || tag < 0 || tag > TAG_UB) throw new InvalidArgument('tag', `intercommCreate(): expected an integer in [0, ${TAG_UB}], got ${String(tag)}`);
  const c = local[kCollective];
  let meeting: Meeting | undefined;
  if (local.rank === localLeader) meeting = meet(local, peerComm, remoteLeader, tag);
  meeting = bcastSmall(c, meeting, localLeader)!;
  if ('error' in meeting) throw meeting.group ? new InvalidGroup(`intercommCreate(): ${meeting.error}`) : new InvalidComm(`intercommCreate(): ${meeting.error}`);
  return new Intercomm(local.runtime, local.members, meeting.remote, checkDrawn(meeting.context, 'intercommCreate'));
}

function meet(local: Comm, peerComm: Comm | null, remoteLeader: number, tag: number): Meeting {
  if (!(peerComm instanceof Comm)) return { error: `the leader's peerComm must be an intracommunicator holding both leaders, got ${String(peerComm)}` };
  if (!Number.isInteger(remoteLeader) || remoteLeader < 0 || remoteLeader >= peerComm.size || remoteLeader === peerComm.rank) {
    return { error: `remoteLeader ${String(remoteLeader)} is not another rank of peerComm (0..${peerComm.size - 1}, not this leader's ${peerComm.rank})` };
  }
  const mine = freshContext(local.runtime);
  const leader = local.runtime.worldRank;
  const theirs = peerComm.sendrecvObject<{ context: number; leader: number; members: number[] }>(
    { context: mine, leader, members: local.members }, remoteLeader, tag, remoteLeader, tag);
  const ours = new Set(local.members);
  const shared = theirs.members.find((w) => ours.has(w));
  if (shared !== undefined) return { error: `world rank ${shared} is in both groups; the local and remote groups must be disjoint`, group: true };
  return { context: lowerLeaders(leader, mine, theirs.leader, theirs.context), remote: theirs.members };
}
