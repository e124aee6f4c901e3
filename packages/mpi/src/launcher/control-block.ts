import { WaitKind, type JobControlPort, type WaitDescription } from '../p2p/ports.js';

/**
 * The job control block: one small SharedArrayBuffer every rank and the launcher see.
 *
 *   header  [ABORT, ABORT_CODE, ACTIVITY, NRANKS, WAKE_STALL_MS, ASLEEP, -, -]
 *   rank r  [STATE, WAIT_KIND, WAIT_PEER, WAIT_TAG, WAIT_CONTEXT, EPOCH, POLLS, LOOKS]   at HEADER + r * SLOTS
 *
 * Who writes what: a rank writes only its own slots (state, what it waits for, its progress epoch, its
 * looks) and bumps ACTIVITY whenever it hands data to another rank; anyone may set ABORT (a failing rank,
 * abort(), or the launcher). The launcher only reads the rank slots (and sets WAKE_STALL_MS, --inject
 * stall, before the ranks start); ASLEEP counts the ranks asleep in a blocking wait right now (each adds
 * itself around its sleep), so a waiting rank can tell whether the awake ones fit the cores. The deadlock detector (deadlock.ts) declares a deadlock when every live
 * rank is BLOCKED (or keeps POLLING), neither ACTIVITY nor any EPOCH moved, and every live rank has itself
 * looked for work and found none (LOOKS / POLLS moved twice) since the last movement: a rank that was
 * woken but is not scheduled (a loaded host) has not looked, so it cannot be declared stuck.
 */
export const RankState = { STARTING: 0, RUNNING: 1, BLOCKED: 2, FINISHED: 3, FAILED: 4, POLLING: 5 } as const;
export type RankStateValue = (typeof RankState)[keyof typeof RankState];
export const STATE_NAMES = ['starting', 'running', 'blocked', 'finished', 'failed', 'polling'] as const;

// indexed by WaitKind (p2p/ports.ts)
const WAIT_NAMES = ['nothing', 'recv', 'send', 'probe', 'request', 'finalize', 'virtual time'] as const;

const HEADER = 8;
const SLOTS = 8;
const ABORT = 0, ABORT_CODE = 1, ACTIVITY = 2, NRANKS = 3, WAKE_STALL_MS = 4, ASLEEP = 5;
const STATE = 0, WAIT_KIND = 1, WAIT_PEER = 2, WAIT_TAG = 3, WAIT_CONTEXT = 4, EPOCH = 5, POLLS = 6, LOOKS = 7;

export interface ControlBlockHandle {
  kind: 'tsmpi.control-block';
  sab: SharedArrayBuffer;
}

export class ControlBlock implements JobControlPort {
  readonly handle: ControlBlockHandle;
  readonly ranks: number;
  private readonly w: Int32Array;

  private constructor(sab: SharedArrayBuffer) {
    this.handle = { kind: 'tsmpi.control-block', sab };
    this.w = new Int32Array(sab);
    this.ranks = this.w[NRANKS]!;
  }

  static create(ranks: number): ControlBlock {
    const sab = new SharedArrayBuffer((HEADER + ranks * SLOTS) * 4);
    new Int32Array(sab)[NRANKS] = ranks;
    return new ControlBlock(sab);
  }

  static attach(handle: ControlBlockHandle): ControlBlock {
    return new ControlBlock(handle.sab);
  }

  get aborted(): boolean {
    return Atomics.load(this.w, ABORT) !== 0;
  }

  get abortCode(): number {
    return Atomics.load(this.w, ABORT_CODE);
  }

  /** First caller wins the code; later calls keep it. */
  abort(code: number): void {
    if (Atomics.compareExchange(this.w, ABORT, 0, 1) === 0) Atomics.store(this.w, ABORT_CODE, code);
  }

  /** Bumped whenever a rank hands data or a control message to another rank. */
  noteActivity(): void {
    Atomics.add(this.w, ACTIVITY, 1);
  }

  get activity(): number {
    return Atomics.load(this.w, ACTIVITY);
  }

  setState(rank: number, state: RankStateValue): void {
    Atomics.store(this.w, HEADER + rank * SLOTS + STATE, state);
  }

  state(rank: number): RankStateValue {
    return Atomics.load(this.w, HEADER + rank * SLOTS + STATE) as RankStateValue;
  }

  /**
   * Mark the rank blocked on `wait`: it looked for work, found none and is about to sleep on its
   * completion queue. Every call counts a look (a blocked rank calls it before each sleep slice).
   */
  block(rank: number, wait: WaitDescription): void {
    this.setWait(rank, wait, RankState.BLOCKED);
    Atomics.add(this.w, HEADER + rank * SLOTS + LOOKS, 1);
  }

  /** How many times the rank looked for work and found none (sleeps before a wait, polls for nothing). */
  looks(rank: number): number {
    const b = HEADER + rank * SLOTS;
    return (Atomics.load(this.w, b + LOOKS) + Atomics.load(this.w, b + POLLS)) | 0;
  }

  /**
   * --inject stall:MS: wall ms a rank thread stays off its core after each sleep, still BLOCKED,
   * as a woken thread on a loaded host does. 0: none. Set by the launcher before the ranks start.
   */
  get wakeStallMs(): number {
    return Atomics.load(this.w, WAKE_STALL_MS);
  }

  set wakeStallMs(ms: number) {
    Atomics.store(this.w, WAKE_STALL_MS, ms);
  }

  /**
   * A poll (test, iprobe) found nothing: the rank says what it polls for and counts the poll. The
   * state stays POLLING until the rank waits, or a poll succeeds; the detector counts it as
   * blocked only while the count keeps moving (a rank that stopped polling may be computing).
   */
  poll(rank: number, wait: WaitDescription): void {
    this.setWait(rank, wait, RankState.POLLING);
    Atomics.add(this.w, HEADER + rank * SLOTS + POLLS, 1);
  }

  polls(rank: number): number {
    return Atomics.load(this.w, HEADER + rank * SLOTS + POLLS);
  }

  private setWait(rank: number, wait: WaitDescription, state: RankStateValue): void {
    const b = HEADER + rank * SLOTS;
    Atomics.store(this.w, b + WAIT_KIND, wait.kind);
    Atomics.store(this.w, b + WAIT_PEER, wait.peer);
    Atomics.store(this.w, b + WAIT_TAG, wait.tag);
    Atomics.store(this.w, b + WAIT_CONTEXT, wait.context);
    Atomics.store(this.w, b + STATE, state);
  }

  /** A rank goes to sleep (+1) in a blocking wait, or wakes from it (-1). */
  sleeping(delta: 1 | -1): void {
    Atomics.add(this.w, ASLEEP, delta);
  }

  /** The ranks of this block not asleep in a blocking wait (running, spinning, or not started). */
  get awake(): number {
    return this.ranks - Atomics.load(this.w, ASLEEP);
  }

  unblock(rank: number): void {
    Atomics.store(this.w, HEADER + rank * SLOTS + STATE, RankState.RUNNING);
  }

  /** The rank made progress (matched, completed or delivered something). */
  bumpEpoch(rank: number): void {
    Atomics.add(this.w, HEADER + rank * SLOTS + EPOCH, 1);
  }

  waitOf(rank: number): WaitDescription {
    const b = HEADER + rank * SLOTS;
    return {
      kind: Atomics.load(this.w, b + WAIT_KIND),
      peer: Atomics.load(this.w, b + WAIT_PEER),
      tag: Atomics.load(this.w, b + WAIT_TAG),
      context: Atomics.load(this.w, b + WAIT_CONTEXT),
    };
  }

  /** A number that changes whenever anything in the job moves. */
  fingerprint(): number {
    let f = this.activity;
    for (let r = 0; r < this.ranks; r++) f = (f * 31 + Atomics.load(this.w, HEADER + r * SLOTS + EPOCH)) | 0;
    return f;
  }

  /** Human-readable "rank 1: blocked in recv(source=0, tag=7)", "rank 1: polling iprobe(source=0, tag=5) without progress". */
  describe(rank: number): string {
    const state = this.state(rank);
    if (state === RankState.POLLING) return `rank ${rank}: polling ${this.pollText(this.waitOf(rank))} without progress`;
    if (state !== RankState.BLOCKED) return `rank ${rank}: ${STATE_NAMES[state]}`;
    const w = this.waitOf(rank);
    const { peer, tag, ctx } = waitArgs(w);
    switch (w.kind) {
      case WaitKind.RECV:
        return `rank ${rank}: blocked in recv(source=${peer}, tag=${tag}${ctx})`;
      case WaitKind.SEND:
        return `rank ${rank}: blocked in send(dest=${peer}, tag=${tag}${ctx}) waiting for the receiver to match it`;
      case WaitKind.PROBE:
        return `rank ${rank}: blocked in probe(source=${peer}, tag=${tag}${ctx})`;
      case WaitKind.FINALIZE:
        return `rank ${rank}: finishing, waiting for its send to rank ${peer} (tag ${tag}) to be received`;
      case WaitKind.HORIZON:
        return `rank ${rank}: held in virtual time until rank ${w.peer} moves on (exact timing)`;
      default:
        return `rank ${rank}: blocked waiting for ${WAIT_NAMES[w.kind] ?? 'a request'}`;
    }
  }

  private pollText(w: WaitDescription): string {
    const { peer, tag, ctx } = waitArgs(w);
    switch (w.kind) {
      case WaitKind.PROBE:
        return `iprobe(source=${peer}, tag=${tag}${ctx})`;
      case WaitKind.RECV:
        return `test() on recv(source=${peer}, tag=${tag}${ctx})`;
      case WaitKind.SEND:
        return `test() on send(dest=${peer}, tag=${tag}${ctx})`;
      default:
        return `test() on ${WAIT_NAMES[w.kind] ?? 'a request'}`;
    }
  }
}

function waitArgs(w: WaitDescription): { peer: string; tag: string; ctx: string } {
  return {
    peer: w.peer === -1 ? 'ANY_SOURCE' : String(w.peer),
    tag: w.tag === -1 ? 'ANY_TAG' : String(w.tag),
    ctx: w.context > 0 ? `, context=${w.context}` : '',
  };
}
