import { TypedBuffer } from '../typed-buffer.js';
import { countTemporary } from './stats.js';
import type { Buffer, CollectiveComm, TypedArray, TypedArrayCtor } from './types.js';

/** A buffer whose free() gives it back to its pool; the pool frees its backing. */
export class PooledBuffer<T extends TypedArray> extends TypedBuffer<T> {
  constructor(readonly backing: TypedBuffer<T>, private readonly giveBack: (b: PooledBuffer<T>) => void) {
    super(backing.memory, backing.type, backing.addr, backing.count, false);
  }

  override free(): void {
    this.giveBack(this);
  }
}

/** Set on a communicator view whose alloc() already pools (a persistent collective's): its temporaries go to it. */
export const kPooledAlloc = Symbol('tsmpi.pooledAlloc');

const kScratch = Symbol('tsmpi.collectiveScratch');
/** glibc's M_MMAP_THRESHOLD, when the communicator does not say its heap's. */
const DEFAULT_MMAP_THRESHOLD = 128 * 1024;
/** Idle scratch buffers a communicator keeps (the oldest is freed past it): a few sizes in turn, not every size ever used. */
const MAX_IDLE = 4;

interface ScratchPool {
  readonly idle: PooledBuffer<TypedArray>[];
  /** The communicator was freed: buffers still out go back to the heap when their collective ends. */
  closed: boolean;
}

type ScratchOwner = CollectiveComm & { [kScratch]?: ScratchPool; [kPooledAlloc]?: true; readonly heap?: { readonly mmapThreshold?: number } };

/**
 * A collective's temporary (`count` elements of `type`, in the rank's simulated memory, so the
 * collective's traffic crosses the same protocols and registration cache as the user's); free() it
 * when the collective is done. One of at least the heap's mmap threshold comes from the
 * communicator's scratch and goes back to it: from the heap, such a buffer is mmapped and unmapped
 * every call, and the unmap invalidates its registration, so every large allreduce registered its
 * scratch again. Kept, it stays registered (a cache hit) until the communicator is freed, as MPI
 * libraries keep collective scratch per communicator. Smaller ones come from the heap, whose chunk
 * and registration a next call finds again anyway.
 */
export function temporary<T extends TypedArray>(comm: CollectiveComm, type: TypedArrayCtor<T>, count: number): Buffer<T> {
  const owner = comm as ScratchOwner;
  const bytes = count * type.BYTES_PER_ELEMENT;
  countTemporary(bytes);
  if (owner[kPooledAlloc] || bytes < (owner.heap?.mmapThreshold ?? DEFAULT_MMAP_THRESHOLD)) return comm.alloc(type, count);
  let pool = Object.hasOwn(owner, kScratch) ? owner[kScratch] : undefined;
  if (pool === undefined) {
    pool = { idle: [], closed: false };
    Object.defineProperty(owner, kScratch, { value: pool });
  }
  const i = pool.idle.findIndex((b) => b.type === type && b.count === count);
  if (i >= 0) return pool.idle.splice(i, 1)[0] as unknown as Buffer<T>;
  const p = pool;
  return new PooledBuffer<T>(comm.alloc(type, count), (b) => giveBack(p, b as unknown as PooledBuffer<TypedArray>));
}

function giveBack(pool: ScratchPool, b: PooledBuffer<TypedArray>): void {
  if (pool.closed) return b.backing.free();
  pool.idle.push(b);
  if (pool.idle.length > MAX_IDLE) pool.idle.shift()!.backing.free();
}

/** MPI_Comm_free: the communicator's idle scratch back to the heap (what a collective still uses follows when it ends). */
export function freeScratch(comm: object): void {
  const pool = Object.hasOwn(comm, kScratch) ? (comm as ScratchOwner)[kScratch] : undefined;
  if (pool === undefined) return;
  pool.closed = true;
  for (const b of pool.idle.splice(0)) b.backing.free();
}

/** Idle scratch buffers `comm` keeps now (tests). */
export function idleScratch(comm: object): number {
  return Object.hasOwn(comm, kScratch) ? (comm as ScratchOwner)[kScratch]!.idle.length : 0;
}
