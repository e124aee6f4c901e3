import type { ProgramClock } from '../compute.js';
import { ANY_SOURCE, ANY_TAG } from '../constants.js';
import { RequestError } from '../errors.js';
import { Request, type Progress } from '../request.js';
import { allgatherSchedule } from './allgather.js';
import { allreduceSchedule } from './allreduce.js';
import { alltoallSchedule } from './alltoall.js';
import { barrierSchedule } from './barrier.js';
import { bcastSchedule } from './bcast.js';
import { gatherSchedule } from './gather.js';
import type { ReduceOp } from './ops.js';
import { reduceSchedule } from './reduce.js';
import type { Schedule } from './schedule.js';
import { Tag } from './transport.js';
import type { Buffer, CollectiveComm } from './types.js';
import type { MaybeInPlace } from './in-place.js';

/**
 * Nonblocking collectives (MPI-3 ibarrier, ibcast, ...): the blocking form's schedule (the same
 * generator, so the same algorithm, messages and local work), started at the call and advanced
 * from its request's progress hook — whenever the program tests or waits for any request (the
 * engine calls progressSchedules after each poll of a blocking wait) or looks at a collective
 * request's completion.
 *
 * Virtual time, as if a progress engine ran each round the moment the previous one completed
 * (libNBC with a progress thread, or offload): the first round is posted and paid for by the
 * program in the call; every later round is posted at the schedule's own time — the completion
 * time of the round before — with the program clock set there while it posts and put back
 * after, so the result does not depend on when the program happened to poll. The program
 * clock reaches the collective's completion time when it observes the request, as for any
 * request. Waiting at once gives exactly the blocking form's clock.
 *
 * Each call takes a tag of its own (Tag.nonblocking + how many nonblocking collectives the
 * communicator has started), so several may be in flight at once and a blocking collective
 * called meanwhile never matches their messages. As in MPI, every rank starts the
 * communicator's nonblocking collectives in the same order.
 */

/** What a communicator gives a nonblocking collective: the twin and the rank's engine and program clock. */
export interface NonblockingComm extends CollectiveComm {
  readonly runtime: { readonly engine: Progress & { afterProgress: (() => void) | undefined }; readonly clock: ProgramClock };
}

const started = new WeakMap<object, number>();
/** Schedules of this rank still running (module state is per rank: one worker thread each). */
const active = new Set<ScheduleRequest>();

/** Advances every running schedule of this rank as far as its completed rounds allow. */
export function progressSchedules(): void {
  for (const s of [...active]) s.step();
}

class ScheduleRequest extends Request {
  private round: Request[] = [];
  private time: number;
  private running = false;

  constructor(progress: Progress, private readonly clock: ProgramClock, private readonly schedule: Schedule, tag: number, readonly name: string) {
    super(progress, 'recv', -1, tag);
    this.time = clock.now;
    this.onObserve = (r) => clock.idleUntil(r.readyTime);
  }

  override get completed(): boolean {
    if (!super.completed) progressSchedules();
    return super.completed;
  }

  override get description(): string {
    return `${this.name}(tag=${this.tag})`;
  }

  /** MPI forbids freeing a nonblocking collective's request: every rank must complete it. */
  override free(): void {
    throw new RequestError(`free(): ${this.name} is a nonblocking collective, whose request cannot be freed; wait() or test() it to completion`);
  }

  /** The first step, in the call: the program posts the first round and pays for it; argument errors are thrown. */
  override start(): this {
    const it = this.schedule.next();
    this.time = this.clock.now;
    if (it.done) this.complete(emptyStatus(), this.time);
    else {
      this.round = it.value;
      active.add(this);
      this.step();
    }
    return this;
  }

  /** Runs the schedule on while its current round is complete, each step at the schedule's own time. */
  step(): void {
    if (this.running || super.completed) return;
    this.running = true;
    try {
      while (this.round.every((r) => r.completed)) {
        let t = this.time;
        for (const r of this.round) {
          if (r.errorValue) return this.end(r.errorValue, Math.max(t, r.readyTime));
          t = Math.max(t, r.readyTime) + r.localUs;
        }
        let it: IteratorResult<Request[], void> | undefined;
        let error: unknown;
        this.time = this.clock.runAt(t, () => {
          try {
            it = this.schedule.next();
          } catch (e) {
            error = e;
          }
        });
        if (!it) return this.end(error instanceof Error ? error : new Error(String(error)), this.time);
        if (it.done) return this.end(undefined, this.time);
        this.round = it.value;
      }
    } finally {
      this.running = false;
    }
  }

  private end(error: Error | undefined, time: number): void {
    active.delete(this);
    if (error) {
      this.schedule.return();
      this.fail(error, time);
    } else {
      this.complete(emptyStatus(), time);
    }
  }
}

function emptyStatus() {
  return { source: ANY_SOURCE, tag: ANY_TAG, count: 0, byteCount: 0 };
}

/** Starts a schedule as a nonblocking collective of `comm` (its own tag; advanced by progress as every i-form is). */
export function startSchedule(comm: NonblockingComm, name: string, make: (tag: number) => Schedule): Request {
  // any blocking wait of the rank (a recv, a probe) moves running schedules on too
  comm.runtime.engine.afterProgress ??= progressSchedules;
  const n = started.get(comm) ?? 0;
  started.set(comm, n + 1);
  const tag = Tag.nonblocking + (n % Tag.nonblocking);
  return new ScheduleRequest(comm.runtime.engine, comm.runtime.clock, make(tag), tag, name).start();
}

export function ibarrier(comm: NonblockingComm): Request {
  return startSchedule(comm, 'ibarrier', (tag) => barrierSchedule(comm, tag));
}

export function ibcast(comm: NonblockingComm, buf: Buffer, root: number): Request {
  return startSchedule(comm, 'ibcast', (tag) => bcastSchedule(comm, buf, root, tag));
}

export function ireduce(comm: NonblockingComm, sbuf: MaybeInPlace, rbuf: Buffer | null | undefined, op: ReduceOp, root: number): Request {
  return startSchedule(comm, 'ireduce', (tag) => reduceSchedule(comm, sbuf, rbuf, op, root, tag));
}

export function iallreduce(comm: NonblockingComm, sbuf: MaybeInPlace, rbuf: Buffer, op: ReduceOp): Request {
  return startSchedule(comm, 'iallreduce', (tag) => allreduceSchedule(comm, sbuf, rbuf, op, tag));
}

export function igather(comm: NonblockingComm, sbuf: MaybeInPlace, rbuf: Buffer | null | undefined, root: number): Request {
  return startSchedule(comm, 'igather', (tag) => gatherSchedule(comm, sbuf, rbuf, root, tag));
}

export function iallgather(comm: NonblockingComm, sbuf: MaybeInPlace, rbuf: Buffer): Request {
  return startSchedule(comm, 'iallgather', (tag) => allgatherSchedule(comm, sbuf, rbuf, tag));
}

export function ialltoall(comm: NonblockingComm, sbuf: MaybeInPlace, rbuf: Buffer): Request {
  return startSchedule(comm, 'ialltoall', (tag) => alltoallSchedule(comm, sbuf, rbuf, tag));
}
