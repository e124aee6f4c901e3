import { PersistentRequest } from '../persistent.js';
import { holdingCache } from '../p2p/held-registrations.js';
import type { RegistrationProviderPort } from '../p2p/ports.js';
import { USER_BUFFER_ACCESS } from '../p2p/protocols/rendezvous-rdma.js';
import type { Request } from '../request.js';
import { kCollective } from '../symbols.js';
import { allgatherSchedule } from './allgather.js';
import { allreduceSchedule } from './allreduce.js';
import { alltoallSchedule } from './alltoall.js';
import { barrierSchedule } from './barrier.js';
import { bcastSchedule } from './bcast.js';
import { gatherSchedule } from './gather.js';
import { startSchedule, type NonblockingComm } from './nonblocking.js';
import type { ReduceOp } from './ops.js';
import { reduceScatterBlockSchedule, reduceScatterSchedule } from './reduce-scatter.js';
import { reduceSchedule } from './reduce.js';
import { scanSchedule } from './scan.js';
import { scatterSchedule } from './scatter.js';
import type { Schedule } from './schedule.js';
import { allgathervSchedule, alltoallvSchedule, gathervSchedule, scattervSchedule } from './vector.js';
import type { Counts } from './vector-args.js';
import type { Buffer, CollectiveComm, TypedArray, TypedArrayCtor } from './types.js';
import { isInPlace, type MaybeInPlace } from './in-place.js';
import { PooledBuffer, kPooledAlloc } from './scratch.js';

/**
 * Persistent collectives (MPI-4 MPI_Barrier_init, MPI_Bcast_init, ...): the arguments are bound
 * at init; each start() runs the nonblocking form's schedule (same algorithm, same messages, a tag
 * of its own like any nonblocking collective, so every rank starts the communicator's persistent
 * and nonblocking collectives in one order); wait()/test() complete it; free() ends it.
 *
 * What init sets up is kept until free(), as a real MPI's persistent collective keeps its
 * schedule and buffers: the registrations of the user's buffers (those of at least the eager
 * threshold: shorter ones travel through bounce buffers and are never registered) are taken at
 * init, and the temporaries the algorithm needs are allocated and registered at the first start
 * and reused by the next ones. So no start after the first registers anything or asks the cache.
 */

/** What a persistent collective needs of its communicator beyond a nonblocking one: the rank's cache and eager threshold. */
export interface PersistentComm extends NonblockingComm {
  readonly runtime: NonblockingComm['runtime'] & {
    readonly engine: NonblockingComm['runtime']['engine'] & { readonly env: { cache: RegistrationProviderPort; eagerThreshold: number } };
  };
}

class PersistentCollective extends PersistentRequest {
  constructor(comm: PersistentComm, private readonly name: string, begin: () => Request, release: () => void) {
    super(comm.runtime.engine, 'recv', -1, 0, begin, release);
  }

  override get description(): string {
    return `${this.name}Init`;
  }
}

function persistent(comm: PersistentComm, name: string, buffers: readonly (MaybeInPlace | null | undefined)[], make: (c: CollectiveComm, tag: number) => Schedule): Request {
  const env = comm.runtime.engine.env;
  const held = holdingCache(env);
  const unhold: (() => void)[] = [];
  const holdIfLong = (b: Buffer) => {
    if (b.byteLength >= env.eagerThreshold) unhold.push(held.hold(b.addr, b.byteLength, USER_BUFFER_ACCESS));
  };
  for (const b of new Set(buffers)) if (b && !isInPlace(b)) holdIfLong(b);

  const idle = new Map<string, Buffer[]>();
  const pooled: PooledBuffer<TypedArray>[] = [];
  const alloc = <T extends TypedArray>(type: TypedArrayCtor<T>, count: number): Buffer<T> => {
    const key = `${type.name}:${count}`;
    const free = idle.get(key) ?? [];
    idle.set(key, free);
    const reuse = free.pop();
    if (reuse) return reuse as Buffer<T>;
    const b = new PooledBuffer<TypedArray>(comm.alloc(type, count), (x) => free.push(x));
    pooled.push(b);
    holdIfLong(b);
    return b as unknown as Buffer<T>;
  };
  // The algorithm sees the communicator with the pool as its allocator (and the same collective twin):
  // a temporary the algorithm frees after each run is given back to it, freed with the request.
  const twin = comm[kCollective];
  const view = Object.create(comm, { alloc: { value: alloc }, [kCollective]: { value: twin }, [kPooledAlloc]: { value: true } }) as CollectiveComm;
  return new PersistentCollective(
    comm, name,
    () => startSchedule(comm, name, (tag) => make(view, tag)),
    () => {
      for (const u of unhold) u();
      for (const b of pooled) b.backing.free();
    },
  );
}

export function barrierInit(comm: PersistentComm): Request {
  return persistent(comm, 'barrier', [], (c, tag) => barrierSchedule(c, tag));
}

export function bcastInit(comm: PersistentComm, buf: Buffer, root: number): Request {
  return persistent(comm, 'bcast', [buf], (c, tag) => bcastSchedule(c, buf, root, tag));
}

export function reduceInit(comm: PersistentComm, sbuf: MaybeInPlace, rbuf: Buffer | null | undefined, op: ReduceOp, root: number): Request {
  return persistent(comm, 'reduce', [sbuf, rbuf], (c, tag) => reduceSchedule(c, sbuf, rbuf, op, root, tag));
}

export function allreduceInit(comm: PersistentComm, sbuf: MaybeInPlace, rbuf: Buffer, op: ReduceOp): Request {
  return persistent(comm, 'allreduce', [sbuf, rbuf], (c, tag) => allreduceSchedule(c, sbuf, rbuf, op, tag));
}

export function gatherInit(comm: PersistentComm, sbuf: MaybeInPlace, rbuf: Buffer | null | undefined, root: number): Request {
  return persistent(comm, 'gather', [sbuf, rbuf], (c, tag) => gatherSchedule(c, sbuf, rbuf, root, tag));
}

export function scatterInit(comm: PersistentComm, sbuf: Buffer | null | undefined, rbuf: MaybeInPlace, root: number): Request {
  return persistent(comm, 'scatter', [sbuf, rbuf], (c, tag) => scatterSchedule(c, sbuf, rbuf, root, tag));
}

export function allgatherInit(comm: PersistentComm, sbuf: MaybeInPlace, rbuf: Buffer): Request {
  return persistent(comm, 'allgather', [sbuf, rbuf], (c, tag) => allgatherSchedule(c, sbuf, rbuf, tag));
}

export function alltoallInit(comm: PersistentComm, sbuf: MaybeInPlace, rbuf: Buffer): Request {
  return persistent(comm, 'alltoall', [sbuf, rbuf], (c, tag) => alltoallSchedule(c, sbuf, rbuf, tag));
}

export function gathervInit(comm: PersistentComm, sbuf: MaybeInPlace, rbuf: Buffer | null | undefined, counts: Counts, displs: Counts, root: number): Request {
  return persistent(comm, 'gatherv', [sbuf, rbuf], (c, tag) => gathervSchedule(c, sbuf, rbuf, counts, displs, root, tag));
}

export function scattervInit(comm: PersistentComm, sbuf: Buffer | null | undefined, counts: Counts, displs: Counts, rbuf: MaybeInPlace, root: number): Request {
  return persistent(comm, 'scatterv', [sbuf, rbuf], (c, tag) => scattervSchedule(c, sbuf, counts, displs, rbuf, root, tag));
}

export function allgathervInit(comm: PersistentComm, sbuf: MaybeInPlace, rbuf: Buffer, counts: readonly number[], displs: Counts): Request {
  return persistent(comm, 'allgatherv', [sbuf, rbuf], (c, tag) => allgathervSchedule(c, sbuf, rbuf, counts, displs, tag));
}

export function alltoallvInit(
  comm: PersistentComm, sbuf: MaybeInPlace, scounts: readonly number[], sdispls: Counts, rbuf: Buffer, rcounts: readonly number[], rdispls: Counts,
): Request {
  return persistent(comm, 'alltoallv', [sbuf, rbuf], (c, tag) => alltoallvSchedule(c, sbuf, scounts, sdispls, rbuf, rcounts, rdispls, tag));
}

export function reduceScatterInit(comm: PersistentComm, sbuf: MaybeInPlace, rbuf: Buffer, counts: readonly number[], op: ReduceOp): Request {
  return persistent(comm, 'reduceScatter', [sbuf, rbuf], (c, tag) => reduceScatterSchedule(c, sbuf, rbuf, counts, op, 'reduceScatter', tag));
}

export function reduceScatterBlockInit(comm: PersistentComm, sbuf: MaybeInPlace, rbuf: Buffer, op: ReduceOp): Request {
  return persistent(comm, 'reduceScatterBlock', [sbuf, rbuf], (c, tag) => reduceScatterBlockSchedule(c, sbuf, rbuf, op, tag));
}

export function scanInit(comm: PersistentComm, sbuf: MaybeInPlace, rbuf: Buffer, op: ReduceOp): Request {
  return persistent(comm, 'scan', [sbuf, rbuf], (c, tag) => scanSchedule(c, sbuf, rbuf, op, false, tag));
}

export function exscanInit(comm: PersistentComm, sbuf: MaybeInPlace, rbuf: Buffer, op: ReduceOp): Request {
  return persistent(comm, 'exscan', [sbuf, rbuf], (c, tag) => scanSchedule(c, sbuf, rbuf, op, true, tag));
}
