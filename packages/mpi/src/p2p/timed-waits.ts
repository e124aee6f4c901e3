import { holdDoorbells, releaseDoorbells } from '@tsmpi/fabric';
import { TimingMode } from '../timing/horizon.js';
import { WaitKind, type ClockPort, type WaitDescription } from './ports.js';
import type { Scheduler } from './scheduler.js';
import type { Step, Waiter } from './waiter.js';

/** What the exact-timing waits need from the engine. */
export interface TimedHost {
  readonly scheduler: Scheduler;
  readonly clock: ClockPort;
  /** Takes what the completion queue and rings hold into the timeline; true if anything came. */
  drain(): boolean;
  /** After each event: what else waits on this rank's messages moves on (nonblocking collectives). */
  afterEvent(): void;
}

/**
 * The three ways a rank waits, with exact virtual time (see scheduler.ts); with `--timing fast`
 * each is a plain poll-until-done.
 */
export class TimedWaits {
  /** Made once: a step of a spinning wait runs many times per message and must not allocate. */
  private readonly afterEvent: () => void;

  constructor(private readonly host: TimedHost, private readonly waiter: Waiter) {
    this.afterEvent = () => host.afterEvent();
  }

  /**
   * A program action at the program clock: everything due by then has run and no rank can still act
   * before it, so what the call sees is the same in every run. Background work (an event's
   * consequences, a nonblocking collective's later round) does not wait for itself.
   */
  sync(): void {
    const { scheduler: s, clock } = this.host;
    if (!s.exact || s.inItem) return;
    const t = Math.max(clock.now, s.clockMark);
    s.enter(TimingMode.RUNNING, t);
    const step = (): Step => {
      const moved = this.host.drain();
      const ran = s.advance(t, undefined, this.afterEvent) !== 'idle';
      if (s.settled(t)) return 'done';
      return moved || ran ? 'ran' : 'idle';
    };
    if (step() === 'done') return;
    this.waiter.waitSteps(step, () => true, s, () => ({ kind: WaitKind.HORIZON, peer: s.laggard(), tag: -1, context: 0 }));
  }

  /**
   * A program call that posts (a send): after it, publish the clock it left the rank at, at once
   * rather than at the next call, and wake the peers it pushed completions to only at the rank's
   * next publication after that (it says BLOCKED, or its clock moved on), or before it sleeps.
   * A peer woken sooner wakes to little: it may handle the message (lookahead), but not act at a
   * time past this rank's clock (its reply, a send: exact safety), and this rank stays at the clock
   * of this call until its next one — in a ping-pong, until the receive it posts next says BLOCKED.
   * Woken at the push, the peer answered, found this rank not yet blocked and slept on its row: a
   * second wake-up per message, and often a third, when the woken peer took the core of the waker
   * before that had published. Its own publication here wakes nobody (wake: false).
   */
  act(call: () => void): void {
    const { scheduler: s, clock } = this.host;
    if (!s.exact || s.inItem) {
      call();
      return;
    }
    holdDoorbells();
    try {
      call();
      if (!s.blocked && clock.now > s.clockMark) s.enter(TimingMode.RUNNING, clock.now, false);
    } finally {
      releaseDoorbells(false);
    }
  }

  /**
   * Waits for an event (a request, a probe, finalize): the rank says it is BLOCKED — it acts again
   * only on an event — runs what comes in order, and says it resumes before its bound may rise past
   * the clock it resumes at: `resumesAt()`, when the caller knows the program clock will be at least
   * that once it sees what it waited for (a request's completion time). Resuming at the old clock
   * instead held back a peer whose clock had already passed it (a ping-pong partner in its next call).
   */
  waitForEvent(done: () => boolean, wait: WaitDescription | (() => WaitDescription), resumesAt: () => number = () => 0): void {
    const { scheduler: s, clock } = this.host;
    if (!s.exact || s.inItem) {
      this.waiter.waitUntil(done, wait);
      return;
    }
    if (done()) return;
    s.enter(TimingMode.BLOCKED, s.clockMark);
    try {
      this.waiter.waitSteps(() => {
        const moved = this.host.drain();
        const r = s.advance(Infinity, done, this.afterEvent);
        if (r === 'done' || done()) return 'done';
        return moved || r === 'ran' ? 'ran' : 'idle';
      }, () => s.heldBack(Infinity), s, wait);
    } finally {
      s.enter(TimingMode.RUNNING, Math.max(clock.now, s.clockMark, resumesAt()));
    }
  }

  /**
   * `await request`: other async code of the rank runs between turns, so several such waits may be
   * under way at once; the rank counts as BLOCKED while any is (what a turn of other code does in the
   * meantime is a program action at the clock, which sync() publishes).
   */
  async waitForEventAsync(done: () => boolean, wait: () => WaitDescription): Promise<void> {
    const { scheduler: s, clock } = this.host;
    if (!s.exact) {
      await this.waiter.waitAsync(done, wait);
      return;
    }
    this.asyncWaits++;
    try {
      await this.waiter.waitAsync(done, wait, () => {
        if (!s.blocked) s.enter(TimingMode.BLOCKED, s.clockMark);
        const moved = this.host.drain();
        return s.advance(Infinity, done, this.afterEvent) !== 'idle' || moved;
      });
    } finally {
      // advance() stops after the item that completed this request without publishing (so a
      // resuming rank says RUNNING first): publish now, RUNNING if no other await is under way
      if (--this.asyncWaits === 0) s.enter(TimingMode.RUNNING, Math.max(clock.now, s.clockMark));
      else s.publish();
    }
  }

  private asyncWaits = 0;

  /**
   * Waits for a resource that costs no virtual time (a free send slot): the rank stays RUNNING at its
   * clock, since it goes on at that clock once the slot is back, whatever time the slot came.
   */
  waitForResource(done: () => boolean, wait: WaitDescription): void {
    const s = this.host.scheduler;
    if (!s.exact) {
      this.waiter.waitUntil(done, wait);
      return;
    }
    if (done()) return;
    this.waiter.waitSteps(() => {
      const moved = this.host.drain();
      const ran = !s.inItem && s.advance(s.clockMark, undefined, this.afterEvent) !== 'idle';
      if (done()) return 'done';
      return moved || ran ? 'ran' : 'idle';
    }, () => false, s, wait);
  }
}
