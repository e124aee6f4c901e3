import { UNDEFINED } from './constants.js';
import { InvalidArgument } from './errors.js';
import type { Group } from './group.js';
import type { RankRuntimeFace } from './rank/runtime-face.js';
import { Message } from './message.js';
import type { Request } from './request.js';
import { Win } from './rma/window.js';
import { kCollective } from './symbols.js';
import type { CartComm } from './topology/cart.js';
import { topologyHooks } from './topology/hooks.js';
import type { TypedArray, TypedArrayCtor, TypedBuffer } from './typed-buffer.js';
import { CommCore } from './comm/core.js';
import { CommPointToPoint } from './comm/point-to-point.js';
import { CommCollectives } from './comm/collective-calls.js';
import { allgatherSmall, checkDrawn, freshContext, leaderContext } from './comm/context.js';
import { commCreate, commCreateGroup, idup, splitType } from './comm/create.js';
import { guardFreed } from './comm/lifecycle.js';
import { intercommCreate, type Intercomm } from './comm/intercomm.js';

export { Message };

/**
 * A communicator: a group of ranks and a context. Its calls come in layers, one file each:
 * what every communicator has (comm/core.ts), point-to-point (comm/point-to-point.ts),
 * collectives (comm/collective-calls.ts); windows and new communicators are here. Collectives run
 * on the communicator's collective twin (`comm[kCollective]`), the same group under the next
 * context id, so their traffic never matches a user's message.
 */
export class Comm extends CommCollectives {
  private twin: Comm | undefined;

  /** @internal created by init(), dup() and split() */
  constructor(runtime: RankRuntimeFace, group: readonly number[], context: number, twinOf?: Comm) {
    super(runtime, group, context);
    if (twinOf) this.twin = twinOf;
  }

  /** The collective twin: same group, context + 1. Collectives send and receive on it. */
  get [kCollective](): Comm {
    this.twin ??= new Comm(this.runtime, this.members, this.context + 1, this);
    return this.twin;
  }

  // ───────────────────────── one-sided (rma/) ─────────────────────────

  /** Collective: exposes `buf` to one-sided access by every rank of this communicator (MPI_Win_create). */
  winCreate<T extends TypedArray>(buf: TypedBuffer<T>): Win<T> {
    this.checkBuffer(buf, 'winCreate');
    return new Win(this, 'create', buf, false);
  }

  /** Collective: `count` elements of `type` from this rank's heap as a window (MPI_Win_allocate); win.buffer. */
  winAllocate<T extends TypedArray>(type: TypedArrayCtor<T>, count: number): Win<T> {
    const buf = this.alloc(type, count);
    buf.fill(typeof new type(1)[0] === 'bigint' ? 0n : 0);
    return new Win(this, 'allocate', buf, true);
  }

  /** Collective: a window with no memory yet; attach(buf) and detach(buf) expose and withdraw memory (MPI_Win_create_dynamic). */
  winCreateDynamic(): Win {
    return new Win(this, 'dynamic', undefined, false);
  }

  // ───────────────────────── communicators (comm/context.ts, comm/create.ts, comm/intercomm.ts) ─────────────────────────

  /** Same group, new context: its messages never match this communicator's. Collective. */
  dup(): Comm {
    const context = leaderContext(this[kCollective], this.runtime, 'dup');
    return new Comm(this.runtime, this.members, context);
  }

  /** Nonblocking dup (MPI_Comm_idup): once the request completes, `request.value` is the new communicator. Collective. */
  idup(): Request {
    return idup(this);
  }

  /**
   * Ranks with the same `color` form a new communicator, ordered by `key` then by rank here.
   * `color` UNDEFINED (or any negative number) leaves this rank out: it gets null. Collective.
   */
  split(color: number, key = 0): Comm | null {
    if (!Number.isInteger(color) || (color < 0 && color !== UNDEFINED)) {
      throw new InvalidArgument('color', `expected an integer >= 0 or UNDEFINED, got ${String(color)}`);
    }
    if (!Number.isInteger(key)) throw new InvalidArgument('key', `expected an integer, got ${String(key)}`);
    // rank 0 draws the context for every color (the groups are disjoint) and sends it with the colors and keys
    const all = allgatherSmall<[number, number, number]>(this[kCollective], [color, key, this.rank === 0 ? freshContext(this.runtime) : 0]);
    const context = checkDrawn(all[0]![2], 'split');
    if (color < 0) return null;
    const members = all
      .map(([c, k], r) => ({ c, k, r }))
      .filter((e) => e.c === color)
      .sort((a, b) => a.k - b.k || a.r - b.r)
      .map((e) => this.members[e.r]!);
    return new Comm(this.runtime, members, context);
  }

  /** COMM_TYPE_SHARED: one communicator per simulated node, ordered by `key` then rank; UNDEFINED gives null (MPI_Comm_split_type). Collective. */
  splitType(type: number, key = 0): Comm | null {
    return splitType(this, type, key);
  }

  /** The members of `group` get a communicator over it, the others null (MPI_Comm_create). Collective over this communicator. */
  commCreate(group: Group): Comm | null {
    return commCreate(this, group);
  }

  /** A communicator over `group`, called by its members only (MPI_Comm_create_group); `tag` tells concurrent calls apart. */
  commCreateGroup(group: Group, tag = 0): Comm {
    return commCreateGroup(this, group, tag);
  }

  /**
   * An intercommunicator between this communicator's group and a disjoint remote group
   * (MPI_Intercomm_create): the two leaders meet on `peerComm` (significant at `localLeader` only)
   * under `tag`. Collective over both groups.
   */
  intercommCreate(localLeader: number, peerComm: Comm | null, remoteLeader: number, tag = 0): Intercomm {
    return intercommCreate(this, localLeader, peerComm, remoteLeader, tag);
  }

  /** A Cartesian communicator over the first prod(dims) ranks (null on the others); see topology/cart.ts. Collective. */
  cartCreate(dims: readonly number[], periods: readonly boolean[] = [], reorder = false): CartComm | null {
    return topologyHooks.cartCreate!(this, dims, periods, reorder);
  }
}

/** Every prototype a Comm's methods live on, base first: what tracing and the compute boundary wrap. */
export const COMM_PROTOTYPES: readonly object[] = [CommCore.prototype, CommPointToPoint.prototype, CommCollectives.prototype, Comm.prototype];
for (const proto of COMM_PROTOTYPES) guardFreed(proto);
