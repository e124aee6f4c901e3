import { UNDEFINED } from './constants.js';
import { InvalidArgument, TAG_UB } from './errors.js';
import type { RankRuntimeFace } from './rank/runtime-face.js';
import { Message } from './message.js';
import { Win } from './rma/window.js';
import { kCollective } from './symbols.js';
import type { CartComm } from './topology/cart.js';
import { topologyHooks } from './topology/hooks.js';
import type { TypedArray, TypedArrayCtor, TypedBuffer } from './typed-buffer.js';
import { CommCore } from './comm/core.js';
import { CommPointToPoint } from './comm/point-to-point.js';
import { CommCollectives } from './comm/collective-calls.js';

export { Message };

/** Tag the runtime uses on a communicator's collective twin to agree on context ids (dup/split). */
const CONTEXT_TAG = TAG_UB;

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
    this.twin ??= new Comm(this.runtime, this.group, this.context + 1, this);
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

  // ───────────────────────── communicators ─────────────────────────

  /** Same group, new context: its messages never match this communicator's. Collective. */
  dup(): Comm {
    const context = this.agreeOnContext();
    return new Comm(this.runtime, this.group, context);
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
    const all = this.allgatherInternal<[number, number, number]>([color, key, this.runtime.nextContext]);
    const context = Math.max(...all.map((e) => e[2]));
    this.runtime.nextContext = context + 2;
    if (color < 0) return null;
    const members = all
      .map(([c, k], r) => ({ c, k, r }))
      .filter((e) => e.c === color)
      .sort((a, b) => a.k - b.k || a.r - b.r)
      .map((e) => this.group[e.r]!);
    return new Comm(this.runtime, members, context);
  }

  private agreeOnContext(): number {
    const all = this.allgatherInternal<number>(this.runtime.nextContext);
    const context = Math.max(...all);
    this.runtime.nextContext = context + 2;
    return context;
  }

  /** Linear allgather of small objects on the collective twin (the runtime's own, independent of src/collectives). */
  private allgatherInternal<V>(mine: V): V[] {
    const c = this[kCollective];
    if (c.rank === 0) {
      const all: V[] = [mine];
      for (let r = 1; r < c.size; r++) all.push(c.recvObject<V>(r, CONTEXT_TAG));
      for (let r = 1; r < c.size; r++) c.sendObject(all, r, CONTEXT_TAG);
      return all;
    }
    c.sendObject(mine, 0, CONTEXT_TAG);
    return c.recvObject<V[]>(0, CONTEXT_TAG);
  }

  /** A Cartesian communicator over the first prod(dims) ranks (null on the others); see topology/cart.ts. Collective. */
  cartCreate(dims: readonly number[], periods: readonly boolean[] = [], reorder = false): CartComm | null {
    return topologyHooks.cartCreate!(this, dims, periods, reorder);
  }
}

/** Every prototype a Comm's methods live on, base first: what tracing and the compute boundary wrap. */
export const COMM_PROTOTYPES: readonly object[] = [CommCore.prototype, CommPointToPoint.prototype, CommCollectives.prototype, Comm.prototype];
