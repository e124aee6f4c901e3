import { RequestError } from './errors.js';
import type { HeldRegistration } from './p2p/operations.js';
import { Request, type Progress } from './request.js';

/**
 * A persistent request (MPI_Send_init / MPI_Recv_init): the arguments are bound once; start()
 * runs the operation again, wait()/test() complete it, and the request is inactive in between
 * (waiting for an inactive one returns at once). A persistent send keeps its buffer's
 * registration from its first start to free(): the rendezvous acquires it once instead of at
 * every start, so the registration cache sees one acquire per request, not one per message.
 */
export class PersistentRequest extends Request {
  private inner: Request | undefined;
  private readonly held: HeldRegistration = {};

  /** @internal made by comm.sendInit() / recvInit() */
  constructor(
    progress: Progress, op: 'send' | 'recv', peer: number, tag: number,
    private readonly begin: (held: HeldRegistration) => Request,
    private readonly release: (held: HeldRegistration) => void,
  ) {
    super(progress, op, peer, tag);
    // inactive until started: complete, and already seen (waitAny / waitSome skip it)
    this.complete({ source: -1, tag: -1, count: 0, byteCount: 0 }, 0);
    this.observed = true;
    this.onObserve = (q) => this.inner?.onObserve?.(q);
  }

  override get completed(): boolean {
    const inner = this.inner;
    if (!super.completed && inner?.completed) {
      this.statusValue = inner.statusValue;
      this.readyTime = inner.readyTime;
      this.localUs = inner.localUs;
      this.objectValue = inner.objectValue;
      if (inner.errorValue) this.fail(inner.errorValue, inner.readyTime, inner.statusValue);
      else this.complete(inner.statusValue!, inner.readyTime, inner.localUs);
    }
    return super.completed;
  }

  /** Starts the operation again with the bound arguments (MPI_Start). */
  override start(): void {
    if (this.freed) throw new RequestError('start(): this persistent request was freed; make a new one with sendInit()/recvInit()');
    if (!this.completed) throw new RequestError('start(): the request is still active; wait() or test() it to completion first');
    this.rearm();
    this.inner = this.begin(this.held);
  }

  /**
   * Ends the request (MPI_Request_free): lets go of the held registration; start() is an error
   * after. An active one must be waited for first: its registration is in use until it completes.
   */
  override free(): void {
    this.checkUsable('free');
    if (!this.completed) throw new RequestError('free(): the persistent request is still active; wait() for it before freeing it');
    this.freed = true;
    this.release(this.held);
  }
}
