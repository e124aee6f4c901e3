import { Comm } from '../comm.js';
import { PROC_NULL, UNDEFINED } from '../constants.js';
import { InvalidArgument, InvalidRank } from '../errors.js';
import { neighborAllgather, neighborAlltoall } from '../collectives/neighbor.js';
import type { RankRuntimeFace } from '../rank/runtime-face.js';
import type { TypedBuffer } from '../typed-buffer.js';
import { topologyHooks } from './hooks.js';

/**
 * A communicator with a Cartesian topology (MPI_Cart_create): rank r sits at the coordinates of
 * r in row-major order (the last dimension varies fastest), each dimension periodic or not.
 * Every communicator method works on it; the topology adds coordinates, shifts, sub-grids and
 * the neighbourhood collectives, whose neighbours are, dimension by dimension, the rank one step
 * down then the rank one step up (PROC_NULL past a non-periodic edge).
 */
export class CartComm extends Comm {
  readonly dims: readonly number[];
  readonly periods: readonly boolean[];

  /** @internal created by cartCreate() and sub() */
  constructor(runtime: RankRuntimeFace, group: readonly number[], context: number, dims: readonly number[], periods: readonly boolean[]) {
    super(runtime, group, context);
    this.dims = Object.freeze([...dims]);
    this.periods = Object.freeze([...periods]);
  }

  get ndims(): number {
    return this.dims.length;
  }

  /** MPI_Cart_coords: the coordinates of `rank` (default: this rank). */
  coords(rank = this.rank): number[] {
    if (!Number.isInteger(rank) || rank < 0 || rank >= this.size) throw new InvalidRank('coords()', rank, this.size, false);
    const out = new Array<number>(this.ndims);
    for (let d = this.ndims - 1; d >= 0; d--) {
      out[d] = rank % this.dims[d]!;
      rank = Math.floor(rank / this.dims[d]!);
    }
    return out;
  }

  /**
   * MPI_Cart_rank: the rank at `coords`. A coordinate out of range wraps on a periodic dimension
   * and is an error on a non-periodic one (shift() returns PROC_NULL there instead).
   */
  rankOf(coords: readonly number[]): number {
    const r = this.rankAt(coords);
    if (r === PROC_NULL) {
      throw new InvalidArgument('coords', `rankOf(): [${coords.join(', ')}] lies outside the non-periodic grid [${this.dims.join(', ')}]; use coordinates in [0, dim) there`);
    }
    return r;
  }

  /**
   * MPI_Cart_shift: the ranks `disp` steps down (`source`) and up (`dest`) along `direction`
   * from this rank; PROC_NULL past a non-periodic edge, so `sendrecv(buf, dest, tag, buf2,
   * source, tag)` shifts data along the dimension with no special case at the edges.
   */
  shift(direction: number, disp = 1): { source: number; dest: number } {
    if (!Number.isInteger(direction) || direction < 0 || direction >= this.ndims) {
      throw new InvalidArgument('direction', `shift(): ${String(direction)} is not a dimension of this ${this.ndims}-d grid; use 0..${this.ndims - 1}`);
    }
    if (!Number.isInteger(disp)) throw new InvalidArgument('disp', `shift(): expected an integer displacement, got ${String(disp)}`);
    const at = this.coords();
    const moved = (by: number) => this.rankAt(at.map((c, d) => (d === direction ? c + by : c)));
    return { source: moved(-disp), dest: moved(disp) };
  }

  /**
   * MPI_Cart_sub: the sub-grid through this rank that keeps the dimensions where `remainDims`
   * is true; ranks differing only in the kept coordinates share one. Collective.
   */
  sub(remainDims: readonly boolean[]): CartComm {
    if (!Array.isArray(remainDims) || remainDims.length !== this.ndims) {
      throw new InvalidArgument('remainDims', `sub(): pass ${this.ndims} booleans (one per dimension: keep it or not)`);
    }
    const at = this.coords();
    const linear = (keep: boolean) => remainDims.reduce((acc, k, d) => (k === keep ? acc * this.dims[d]! + at[d]! : acc), 0);
    const part = this.split(linear(false), linear(true))!;
    const kept = (xs: readonly number[] | readonly boolean[]) => xs.filter((_, d) => remainDims[d]);
    return new CartComm(this.runtime, part.members, part.context, kept(this.dims) as number[], kept(this.periods) as boolean[]);
  }

  /** The 2 × ndims neighbours in the order the neighbourhood collectives use: per dimension, down then up. */
  neighbors(): number[] {
    return this.dims.flatMap((_, d) => {
      const { source, dest } = this.shift(d, 1);
      return [source, dest];
    });
  }

  /** MPI_Neighbor_allgather: rbuf (2 × ndims blocks of sbuf.count) gets block k from neighbour k; PROC_NULL blocks are left as they are. */
  neighborAllgather(sbuf: TypedBuffer, rbuf: TypedBuffer): void {
    neighborAllgather(this, this.neighbors(), sbuf, rbuf);
  }

  /** MPI_Neighbor_alltoall: block k of sbuf goes to neighbour k, block k of rbuf comes from it. */
  neighborAlltoall(sbuf: TypedBuffer, rbuf: TypedBuffer): void {
    neighborAlltoall(this, this.neighbors(), sbuf, rbuf);
  }

  /** Row-major rank of `coords`, wrapping periodic dimensions; PROC_NULL outside a non-periodic one. */
  private rankAt(coords: readonly number[]): number {
    if (!Array.isArray(coords) || coords.length !== this.ndims) {
      throw new InvalidArgument('coords', `expected ${this.ndims} coordinates, got ${Array.isArray(coords) ? coords.length : typeof coords}`);
    }
    let r = 0;
    for (let d = 0; d < this.ndims; d++) {
      const n = this.dims[d]!;
      let c = coords[d]!;
      if (!Number.isInteger(c)) throw new InvalidArgument('coords', `coordinate ${d} is ${String(c)}; use integers`);
      if (c < 0 || c >= n) {
        if (!this.periods[d]) return PROC_NULL;
        c = ((c % n) + n) % n;
      }
      r = r * n + c;
    }
    return r;
  }
}

/**
 * MPI_Cart_create: a Cartesian communicator over the first prod(dims) ranks of `comm`, in rank
 * order; the other ranks get null. `reorder` is accepted and ignored (ranks keep their order,
 * as MPICH does without a topology-aware placement). Collective.
 */
export function cartCreate(comm: Comm, dims: readonly number[], periods: readonly boolean[] = [], reorder = false): CartComm | null {
  void reorder;
  if (!Array.isArray(dims)) throw new InvalidArgument('dims', 'cartCreate(): pass an array of dimension sizes (computeDims() makes a balanced one)');
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 1) throw new InvalidArgument('dims', `cartCreate(): dimension sizes must be integers >= 1, got ${String(d)}`);
    n *= d;
  }
  if (n > comm.size) {
    throw new InvalidArgument('dims', `cartCreate(): a [${dims.join(', ')}] grid needs ${n} ranks but the communicator has ${comm.size}; use computeDims(${comm.size}, ${dims.length})`);
  }
  if (!Array.isArray(periods) || periods.length > dims.length) {
    throw new InvalidArgument('periods', `cartCreate(): pass at most ${dims.length} booleans (one per dimension; missing ones are false)`);
  }
  const part = comm.split(comm.rank < n ? 0 : UNDEFINED, comm.rank);
  if (part === null) return null;
  return new CartComm(comm.runtime, part.members, part.context, dims, dims.map((_, d) => Boolean(periods[d])));
}

topologyHooks.cartCreate = cartCreate;
