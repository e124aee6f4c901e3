import { UNDEFINED } from './constants.js';
import { ErrorInStatus, RequestError, type RequestFailure } from './errors.js';
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
  /** @internal returned by a wait/test (waitAny & co skip it after) */ observed = false;
  /** @internal its cost has reached the program clock (getStatus charges it without returning the request) */ charged = false;
  /** @internal */ freed = false;
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
    this.checkUsable('wait');
    if (this.state === PENDING) this.progress.waitRequest(this);
    return this.result();
  }

  /** One poll: the status if complete (throws its error), undefined if not. Costs a modeled poll. */
  test(): Status | undefined {
    this.checkUsable('test');
    if (this.state === PENDING && !this.progress.testRequest(this)) return undefined;
    return this.result();
  }

  /**
   * MPI_Request_get_status: the status if the operation is complete (throws its error), undefined
   * if not, one modeled poll when it is pending — without ending the request: wait(), test() and
   * waitAny still return it after.
   */
  getStatus(): Status | undefined {
    this.checkUsable('getStatus');
    if (!this.completed && !this.progress.testRequest(this)) return undefined;
    this.charge();
    if (this.state === FAILED) throw this.errorValue!;
    return this.statusValue!;
  }

  /** @internal */
  checkUsable(call: string): void {
    if (this.freed) throw new RequestError(`${call}(): this request was freed (request.free()); a freed request cannot be waited for or tested`);
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
    this.observed = this.charged = false;
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
    this.observed = true;
    this.charge();
    if (this.state === FAILED) throw this.errorValue!;
    return this.statusValue!;
  }

  /** @internal The request's cost reaches the program clock once, however many calls look at it. */
  charge(): void {
    if (this.charged) return;
    this.charged = true;
    this.onObserve?.(this);
  }

  /**
   * Waits for every request; returns their statuses. If any failed, throws one ErrorInStatus
   * (MPI_ERR_IN_STATUS) after all completed: its statuses carry each failed request's error.
   */
  static waitAll(rs: readonly Request[]): Status[] {
    usable(rs, 'waitAll');
    const progress = rs.find((r) => !r.completed)?.progress;
    if (progress) progress.waitRequests(rs, true);
    return harvestAll(rs, 'waitAll');
  }

  /**
   * Waits for one request not yet returned or waited for; returns its index and status (the lowest
   * such index among those complete); throws its error if it failed. Like MPI_Waitany with its
   * inactive requests: once every request has been seen (or for an empty list), returns index
   * UNDEFINED (MPI_UNDEFINED) at once, so
   * `for (;;) { const { index } = Request.waitAny(rs); if (index === UNDEFINED) break; ... }` visits each once.
   */
  static waitAny(rs: readonly Request[]): { index: number; status: Status } {
    usable(rs, 'waitAny');
    const live = rs.filter((r) => !r.observed);
    if (live.length === 0) return { index: UNDEFINED, status: emptyStatus() };
    let found = live.find((r) => r.completed);
    if (!found) found = live[live[0]!.progress.waitRequests(live, false)]!;
    return { index: rs.indexOf(found), status: found.result() };
  }

  /**
   * Waits until at least one request not yet returned completes; returns every such completed one
   * (MPI_Waitsome). Once every request has been seen, returns empty lists at once (MPI_UNDEFINED).
   * If any of them failed, throws an ErrorInStatus listing them (all of them count as seen).
   */
  static waitSome(rs: readonly Request[]): { indices: number[]; statuses: Status[] } {
    usable(rs, 'waitSome');
    const live = rs.filter((r) => !r.observed);
    if (live.length > 0 && !live.some((r) => r.completed)) live[0]!.progress.waitRequests(live, false);
    return harvest(rs, 'waitSome');
  }

  /** One poll: every status if all requests are complete (ErrorInStatus if any failed), else undefined and none is consumed. */
  static testAll(rs: readonly Request[]): Status[] | undefined {
    usable(rs, 'testAll');
    const pending = rs.find((r) => !r.completed);
    if (pending && !pending.progress.testRequest(pending)) return undefined;
    return rs.every((r) => r.completed) ? harvestAll(rs, 'testAll') : undefined;
  }

  /**
   * One poll: the lowest-indexed complete request not yet returned, or undefined if none is
   * complete; `{ index: UNDEFINED }` once every request has been seen or for an empty list
   * (MPI_Testany's MPI_UNDEFINED).
   */
  static testAny(rs: readonly Request[]): { index: number; status: Status } | undefined {
    usable(rs, 'testAny');
    const live = rs.filter((r) => !r.observed);
    if (live.length === 0) return { index: UNDEFINED, status: emptyStatus() };
    if (!live.some((r) => r.completed)) live[0]!.progress.testRequest(live[0]!);
    const found = live.find((r) => r.completed);
    return found && { index: rs.indexOf(found), status: found.result() };
  }

  /** One poll: every complete request not yet returned (possibly none); ErrorInStatus if any of them failed. */
  static testSome(rs: readonly Request[]): { indices: number[]; statuses: Status[] } {
    usable(rs, 'testSome');
    const live = rs.filter((r) => !r.observed);
    if (live.length > 0 && !live.some((r) => r.completed)) live[0]!.progress.testRequest(live[0]!);
    return harvest(rs, 'testSome');
  }

  /** Persistent requests (comm.sendInit / recvInit) only: runs the bound operation again (MPI_Start). */
  start(): void {
    throw new RequestError('start(): only persistent requests can be started; make one with comm.sendInit() or comm.recvInit()');
  }

  /**
   * MPI_Request_free: lets go of the request. An active operation goes on in the background (a
   * send still delivers its bytes, a receive still fills its buffer, and the rank's finalize
   * waits for its sends) but can no longer be waited for or tested: learn of its completion
   * some other way (a reply, a barrier). Persistent requests release what they hold.
   */
  free(): void {
    this.checkUsable('free');
    this.freed = true;
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

/** Statuses of every request of `rs` (all complete), in order; one ErrorInStatus if any failed. */
function harvestAll(rs: readonly Request[], call: string): Status[] {
  return harvest(rs, call, true).statuses;
}

/**
 * The complete requests of `rs` not yet returned (or all of them), observed in index order; if any
 * failed, one ErrorInStatus after all are seen, its statuses carrying each failed request's error.
 */
function harvest(rs: readonly Request[], call: string, all = false): { indices: number[]; statuses: Status[] } {
  const indices: number[] = [];
  const statuses: Status[] = [];
  const failures: RequestFailure[] = [];
  rs.forEach((r, i) => {
    if (!all && (r.observed || !r.completed)) return;
    indices.push(i);
    try {
      statuses.push(r.result());
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      failures.push({ index: i, error });
      statuses.push({ ...(r.statusValue ?? emptyStatus()), error });
    }
  });
  if (failures.length > 0) throw new ErrorInStatus(call, indices, statuses, failures);
  return { indices, statuses };
}

function usable(rs: readonly Request[], call: string): void {
  for (const r of rs) r.checkUsable(call);
}

/** The status of an inactive or absent request (MPI's empty status). */
export function emptyStatus(): Status {
  return { source: -1, tag: -1, count: 0, byteCount: 0 };
}

/**
 * The runtime's own waits on several requests (sendrecv, a collective's round) report the failing
 * operation's own error, as MPI_Sendrecv does, rather than MPI_ERR_IN_STATUS.
 */
export function waitAllOwnError(rs: readonly Request[]): Status[] {
  try {
    return Request.waitAll(rs);
  } catch (e) {
    if (e instanceof ErrorInStatus) throw e.failures[0]!.error;
    throw e;
  }
}

/** A request born complete (PROC_NULL operations). */
export function completedRequest(progress: Progress, status: Status, time: number, op: 'send' | 'recv', peer: number, tag: number): Request {
  const r = new Request(progress, op, peer, tag);
  r.complete(status, time);
  return r;
}
