import { RequestError } from './errors.js';
import type { Status } from './status.js';

/** How a request gets completed; the message engine implements it. */
export interface Progress {
  waitRequest(r: Request): void;
  testRequest(r: Request): boolean;
  waitRequests(rs: readonly Request[], all: boolean): number;
  waitRequestAsync(r: Request): Promise<void>;
}

const PENDING = 0, DONE = 1, FAILED = 2;

/**
 * A nonblocking operation. Complete it with wait() (blocks the rank's thread: MPI semantics),
 * test() (one poll, charged to the virtual clock), Request.waitAll / waitAny, or `await` it (polls the
 * engine between turns of the event loop, so other async code of the rank keeps running).
 *
 * Virtual time: a request's cost reaches the rank's clock once, when the program first observes its
 * completion (wait/test/await), so the clock does not depend on when progress happened to run.
 */
export class Request implements PromiseLike<Status> {
  /** @internal */ state = PENDING;
  /** @internal */ statusValue: Status | undefined;
  /** @internal */ errorValue: Error | undefined;
  /** @internal virtual µs at which the operation completes */ readyTime = 0;
  /** @internal µs the rank spends after readyTime when it observes completion (receive overhead, copy out) */ localUs = 0;
  /** @internal */ observed = false;
  /** @internal object receives: the decoded value */ objectValue: unknown = undefined;
  /** @internal */ hasObject = false;
  /** @internal receives: withdraws the receive if nothing matched it yet (set by the engine) */ cancelHook: (() => boolean) | undefined;
  /** @internal what the operation is, for reports: 'send' | 'recv', the peer and the tag */
  readonly op: 'send' | 'recv';
  /** @internal */ readonly peer: number;
  /** @internal */ readonly tag: number;
  private promise: Promise<Status> | undefined;

  /** @internal */
  constructor(
    /** @internal */ readonly progress: Progress,
    op: 'send' | 'recv',
    peer: number,
    tag: number,
  ) {
    this.op = op;
    this.peer = peer;
    this.tag = tag;
  }

  /** @internal e.g. "recv(source=1, tag=7)" */
  get description(): string {
    return this.op === 'send' ? `send(dest=${this.peer}, tag=${this.tag})` : `recv(source=${this.peer}, tag=${this.tag})`;
  }

  /** @internal */
  complete(status: Status, readyTime: number, localUs = 0): void {
    if (this.state !== PENDING) return;
    this.statusValue = status;
    this.readyTime = readyTime;
    this.localUs = localUs;
    this.state = DONE;
  }

  /** @internal */
  fail(error: Error, readyTime: number, status?: Status): void {
    if (this.state !== PENDING) return;
    this.errorValue = error;
    this.statusValue = status;
    this.readyTime = readyTime;
    this.state = FAILED;
  }

  /** True once the operation has completed (successfully or not); does not progress anything. */
  get completed(): boolean {
    return this.state !== PENDING;
  }

  /** Blocks until the operation completes; returns its status or throws its error. */
  wait(): Status {
    if (this.state === PENDING) this.progress.waitRequest(this);
    return this.result();
  }

  /** One poll: the status if complete (throws its error), undefined if not. Costs a modeled poll. */
  test(): Status | undefined {
    if (this.state === PENDING && !this.progress.testRequest(this)) return undefined;
    return this.result();
  }

  /**
   * MPI_Cancel for a receive no message has matched yet: it is withdrawn and completes at once,
   * with `status.cancelled` true. A receive already matched is left to complete as usual (then
   * `cancelled` stays false). Sends cannot be cancelled (deprecated in MPI 4).
   */
  cancel(): void {
    if (this.op === 'send') throw new RequestError('cancel(): only receives can be cancelled; a send completes once delivered (or use issend and wait)');
    if (this.state === PENDING) this.cancelHook?.();
  }

  /** True if cancel() withdrew this receive (MPI_Test_cancelled). */
  get cancelled(): boolean {
    return this.statusValue?.cancelled === true;
  }

  /** @internal a persistent request starts over: pending again, its result and observation forgotten */
  rearm(): void {
    this.state = PENDING;
    this.statusValue = this.errorValue = undefined;
    this.readyTime = this.localUs = 0;
    this.observed = false;
    this.promise = undefined;
  }

  /** For irecvObject(): the received value (after completion). */
  get value(): unknown {
    if (!this.hasObject) throw new RequestError('value is only set on object receives (irecvObject)');
    if (this.state === PENDING) throw new RequestError('the receive has not completed: wait() or await it first');
    return this.objectValue;
  }

  then<A = Status, B = never>(
    onFulfilled?: ((s: Status) => A | PromiseLike<A>) | null,
    onRejected?: ((e: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    this.promise ??= this.progress.waitRequestAsync(this).then(() => this.result());
    return this.promise.then(onFulfilled, onRejected);
  }

  /** @internal hook the engine calls to charge the clock once */
  onObserve: ((r: Request) => void) | undefined;

  /** @internal */
  result(): Status {
    if (!this.observed) {
      this.observed = true;
      this.onObserve?.(this);
    }
    if (this.state === FAILED) throw this.errorValue!;
    return this.statusValue!;
  }

  /** Waits for every request; returns their statuses. If any failed, throws the first error after all completed. */
  static waitAll(rs: readonly Request[]): Status[] {
    const progress = rs.find((r) => !r.completed)?.progress;
    if (progress) progress.waitRequests(rs, true);
    const out: Status[] = [];
    let first: unknown;
    for (const r of rs) {
      try {
        out.push(r.result());
      } catch (e) {
        first ??= e;
        out.push(r.statusValue ?? { source: -1, tag: -1, count: 0, byteCount: 0 });
      }
    }
    if (first !== undefined) throw first;
    return out;
  }

  /**
   * Waits for one request not yet returned or waited for; returns its index and status (the lowest
   * such index among those complete). Like MPI_Waitany with its inactive requests: once every
   * request has been seen, returns index -1 (MPI_UNDEFINED) at once, so
   * `for (;;) { const { index } = Request.waitAny(rs); if (index < 0) break; ... }` visits each once.
   */
  static waitAny(rs: readonly Request[]): { index: number; status: Status } {
    if (rs.length === 0) throw new RequestError('waitAny() needs at least one request');
    const live = rs.filter((r) => !r.observed);
    if (live.length === 0) return { index: -1, status: { source: -1, tag: -1, count: 0, byteCount: 0 } };
    let found = live.find((r) => r.completed);
    if (!found) found = live[live[0]!.progress.waitRequests(live, false)]!;
    return { index: rs.indexOf(found), status: found.result() };
  }

  /**
   * Waits until at least one request not yet returned completes; returns every such completed one
   * (MPI_Waitsome). Once every request has been seen, returns empty lists at once (MPI_UNDEFINED).
   * If any of them failed, throws the first error (all of them count as seen).
   */
  static waitSome(rs: readonly Request[]): { indices: number[]; statuses: Status[] } {
    const live = rs.filter((r) => !r.observed);
    if (live.length > 0 && !live.some((r) => r.completed)) live[0]!.progress.waitRequests(live, false);
    return harvest(rs);
  }

  /** One poll: every status if all requests are complete (throws the first error), else undefined and none is consumed. */
  static testAll(rs: readonly Request[]): Status[] | undefined {
    const pending = rs.find((r) => !r.completed);
    if (pending && !pending.progress.testRequest(pending)) return undefined;
    return rs.every((r) => r.completed) ? Request.waitAll(rs) : undefined;
  }

  /**
   * One poll: the lowest-indexed complete request not yet returned, or undefined if none is
   * complete; `{ index: -1 }` once every request has been seen (MPI_Testany's MPI_UNDEFINED).
   */
  static testAny(rs: readonly Request[]): { index: number; status: Status } | undefined {
    const live = rs.filter((r) => !r.observed);
    if (live.length === 0) return { index: -1, status: { source: -1, tag: -1, count: 0, byteCount: 0 } };
    if (!live.some((r) => r.completed)) live[0]!.progress.testRequest(live[0]!);
    const found = live.find((r) => r.completed);
    return found && { index: rs.indexOf(found), status: found.result() };
  }

  /** One poll: every complete request not yet returned (possibly none); throws the first error among them. */
  static testSome(rs: readonly Request[]): { indices: number[]; statuses: Status[] } {
    const live = rs.filter((r) => !r.observed);
    if (live.length > 0 && !live.some((r) => r.completed)) live[0]!.progress.testRequest(live[0]!);
    return harvest(rs);
  }

  /** Persistent requests (comm.sendInit / recvInit) only: runs the bound operation again (MPI_Start). */
  start(): void {
    throw new RequestError('start(): only persistent requests can be started; make one with comm.sendInit() or comm.recvInit()');
  }

  /** Persistent requests: ends the request and lets go of what it holds (MPI_Request_free). */
  free(): void {
    throw new RequestError('free(): only persistent requests are freed; other requests end when they complete');
  }

  /** Starts every persistent request of `rs` (MPI_Startall). */
  static startAll(rs: readonly Request[]): void {
    for (const r of rs) r.start();
  }

  /** Like waitAll but async: `await Request.all(rs)`. */
  static all(rs: readonly Request[]): Promise<Status[]> {
    return Promise.all(rs.map((r) => Promise.resolve(r)));
  }
}

/** The complete requests of `rs` not yet returned, observed in index order; the first error is thrown after all are seen. */
function harvest(rs: readonly Request[]): { indices: number[]; statuses: Status[] } {
  const indices: number[] = [];
  const statuses: Status[] = [];
  let first: unknown;
  rs.forEach((r, i) => {
    if (r.observed || !r.completed) return;
    indices.push(i);
    try {
      statuses.push(r.result());
    } catch (e) {
      first ??= e;
      statuses.push(r.statusValue ?? { source: -1, tag: -1, count: 0, byteCount: 0 });
    }
  });
  if (first !== undefined) throw first;
  return { indices, statuses };
}

/** A request born complete (PROC_NULL operations). */
export function completedRequest(progress: Progress, status: Status, time: number, op: 'send' | 'recv', peer: number, tag: number): Request {
  const r = new Request(progress, op, peer, tag);
  r.complete(status, time);
  return r;
}
