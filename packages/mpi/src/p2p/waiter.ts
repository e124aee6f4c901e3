import { flushDoorbells } from '@tsmpi/fabric';
import { JobAborted } from '../errors.js';
import type { CqPort, JobControlPort, WaitDescription } from './ports.js';
import type { MessageCounters } from '../stats.js';
import type { IntraPath } from './intra.js';

// How long a blocking call polls before sleeping on the doorbell. Spinning wins when every rank has
// a core (a ping-pong partner answers within microseconds, a futex wake-up costs tens); with more
// ranks than cores it steals the core from the rank that would answer, so the launcher says which
// case this is (EngineEnv.spins). Measured on a shared 2-core box (8 B ping-pong): with both ranks on
// a core, 0 µs of spin gave 41 µs one-way and 20-200 µs gave 4.8-5.4 µs; with other processes
// holding the cores, a fixed 50 µs spin gave 68 µs (the spinner steals the core its peer needs)
// and no spin 12-18 µs. So the budget (at most SPIN_US_DEDICATED) adapts per rank: see waitUntil.
// Either way a rank that waits long sleeps: waiting does not burn a core.
export const SPINS_DEDICATED = 100_000;
export const SPINS_OVERSUBSCRIBED = 20;
export const SPIN_US_DEDICATED = 50;
const WAIT_SLICE_MS = 25;
// A sleep this short (µs) was a hand-off the spin just missed, not a descheduled peer (the
// scheduler gives a preempted thread back its core only after a tick, milliseconds).
const SHORT_SLEEP_US = 4 * SPIN_US_DEDICATED;
// With intra-node rings, a blocked rank sleeps on its ring doorbell (a peer's push wakes it at once)
// and looks at the completion queue between slices this short.
const INTRA_SLICE_MS = 1;
// A rank held back by another in virtual time sleeps on the horizon's epoch (any rank's publication
// wakes it) in slices this short; a completion that could matter comes with a publication.
const HORIZON_SLICE_MS = 1;
// Spins of a wait that only watch for a change (see loop) between two full looks at the rank's work.
const GATE_SPINS = 256;
// An async wait yields to the event loop this many times (setImmediate) before it sleeps 1 ms per turn.
const ASYNC_BUSY_TURNS = 64;

/** What one look at the rank's work found: the wait is over, something moved, or nothing could. */
export type Step = 'done' | 'ran' | 'idle';

/** The job's horizon as a sleeper sees it (the scheduler's). */
export interface HorizonSleep {
  readonly epoch: number;
  sleep(seen: number, ms: number): void;
}

export interface WaiterEnv {
  rank: number;
  cq: CqPort;
  ctrl: JobControlPort;
  counters: MessageCounters;
  intra?: IntraPath;
  /** Progress polls before sleeping on the completion queue's doorbell. */
  spins: number;
  /** The host's cores (see loop: a short spin only while more ranks are awake than this). */
  cores?: number;
}

/**
 * The blocking waits of one rank: poll progress until a condition holds, spinning for an adaptive
 * budget, then sleeping on a doorbell in slices that check the job's abort flag and tell the
 * launcher's deadlock detector what the rank waits for.
 */
export class Waiter {
  /** Current spin budget of blocking waits (µs), adapted by waitUntil. */
  private spinUs = SPIN_US_DEDICATED;
  private waitsStarted = 0;

  constructor(
    private readonly env: WaiterEnv,
    private readonly progress: () => boolean,
  ) {}

  /** Spins, then sleeps on the CQ doorbell, until `done()`; throws JobAborted if the job is torn down. */
  waitUntil(done: () => boolean, wait: WaitDescription | (() => WaitDescription)): void {
    if (done()) return;
    this.loop(() => (this.progress() ? (done() ? 'done' : 'ran') : done() ? 'done' : 'idle'), undefined, wait);
  }

  /**
   * Exact timing: `step()` drains and runs what is due and says whether the wait is over. When
   * nothing moved, the rank sleeps on the horizon if `heldBack()` (another rank must move on in
   * virtual time first), else on its doorbell (it waits for an event).
   */
  waitSteps(step: () => Step, heldBack: () => boolean, horizon: HorizonSleep, wait: WaitDescription | (() => WaitDescription)): void {
    this.loop(step, () => (heldBack() ? horizon : undefined), wait);
  }

  private loop(step: () => Step, sleepOn: (() => HorizonSleep | undefined) | undefined, wait: WaitDescription | (() => WaitDescription)): void {
    const { cq, ctrl, rank, counters } = this.env;
    let spins = 0;
    let spinStart = -1;
    /** performance.now() at the first sleep of this wait (-1: it has not slept). */
    let sleptAt = -1;
    // Adaptive spinning (as adaptive mutexes do): the budget grows after waits that ended while
    // spinning; after a wait that had to sleep it halves only if the sleep was long (the peer was
    // descheduled, or busy for a while: spinning longer would not have caught it). A short sleep
    // means the answer came soon after the spin gave up, so the budget stays: halving on every
    // sleep collapsed it to 0 after a few, and under exact timing every hand-off became a futex
    // wake-up. Every 64th wait probes with the full budget so it recovers when cores free up.
    const budgetUs = (++this.waitsStarted & 63) === 0 ? SPIN_US_DEDICATED : this.spinUs;
    const intra = this.env.intra;
    // More ranks than cores (the launcher's SPINS_OVERSUBSCRIBED): a spinning rank would steal the
    // core a peer needs — but only while more ranks are awake than there are cores. Ranks asleep in
    // a wait need none (8 ranks of which 6 sit in a barrier are a ping-pong on 2 cores), so then the
    // wait spins as with a core of its own. A short spin looks at the work on every spin (no gate),
    // as many times as the launcher said.
    const short = this.env.spins < SPINS_DEDICATED && (this.env.cores === undefined || ctrl.awake > this.env.cores);
    const lookLimit = short ? this.env.spins : SPINS_DEDICATED;
    const gateSpins = short ? 1 : GATE_SPINS;
    // The rank stays BLOCKED for the deadlock detector from its first sleep until a step moves
    // something (which counts as progress: its epoch), not only while it sleeps: between short
    // sleep slices it spins, and a detector sampling then would never see it blocked.
    let blocked = false;
    flushDoorbells();
    try {
      for (;;) {
        // read every doorbell before looking, so a push or a publication after the look wakes the sleep
        const seen = cq.doorbell;
        const bell = intra?.doorbell;
        const watched = sleepOn === undefined ? undefined : sleepOn();
        const epoch = watched === undefined ? 0 : watched.epoch;
        const r = step();
        if (r === 'done') break;
        if (r === 'ran') {
          spins = 0;
          spinStart = -1;
          ctrl.bumpEpoch(rank);
          if (blocked) ctrl.unblock(rank);
          blocked = false;
          continue;
        }
        // Nothing could move: spin on what the sleep below would wake on — the doorbells and the
        // watched rank's publications, a few atomic loads — and look again only once one moved (or
        // after GATE_SPINS, a safety net for a change none of them signals). A full look per spin
        // read every bound under its seqlock (the cache lines the peer writes as it publishes) and
        // boxed a few doubles each time: most of an eager message's heap was spin garbage.
        let lookAgain = false;
        if (++spins < lookLimit) {
          // the budget is checked every 64 looks too: a look a signal ends early may come back idle
          for (let quiet = (spins & 63) === 0 ? 0 : 1; ; quiet++) {
            if ((quiet & 63) === 0) {
              if (ctrl.aborted) throw aborted();
              const now = performance.now();
              if (spinStart < 0) spinStart = now;
              if ((now - spinStart) * 1000 >= budgetUs) break;
            }
            if (quiet >= gateSpins || cq.doorbell !== seen || (bell !== undefined && intra!.doorbell !== bell) ||
              (watched !== undefined && watched.epoch !== epoch)) {
              lookAgain = true;
              break;
            }
          }
        }
        if (lookAgain) continue;
        spins = 0;
        spinStart = -1;
        if (ctrl.aborted) throw aborted();
        flushDoorbells(); // a wait inside a send's hold (timed-waits.ts, act) wakes its peers before it sleeps
        counters.blockingWaits++;
        if (sleptAt < 0) sleptAt = performance.now();
        ctrl.block(rank, typeof wait === 'function' ? wait() : wait);
        blocked = true;
        const horizon = sleepOn?.();
        ctrl.sleeping(1);
        if (horizon !== undefined) horizon.sleep(epoch, HORIZON_SLICE_MS);
        else if (bell !== undefined) intra!.sleep(bell, INTRA_SLICE_MS);
        else cq.wait(seen, WAIT_SLICE_MS);
        ctrl.sleeping(-1);
        if (ctrl.wakeStallMs > 0) stall(ctrl.wakeStallMs);
      }
    } finally {
      if (blocked) ctrl.unblock(rank);
    }
    if (sleptAt < 0) this.spinUs = Math.min(SPIN_US_DEDICATED, this.spinUs + 8);
    else if ((performance.now() - sleptAt) * 1000 > SHORT_SLEEP_US) this.spinUs = this.spinUs < 2 ? 0 : this.spinUs / 2;
  }

  /** Polls progress between turns of the event loop until `done()`, so other async code of the rank keeps running. */
  async waitAsync(done: () => boolean, wait: () => WaitDescription, progress: () => boolean = this.progress): Promise<void> {
    const { ctrl, rank } = this.env;
    let turns = 0;
    while (!done()) {
      if (progress()) continue;
      if (done()) break;
      if (ctrl.aborted) throw aborted();
      turns++;
      if (turns > ASYNC_BUSY_TURNS) {
        ctrl.block(rank, wait());
        await new Promise((res) => setTimeout(res, 1));
        if (ctrl.wakeStallMs > 0) stall(ctrl.wakeStallMs);
        ctrl.unblock(rank);
      } else {
        await new Promise((res) => setImmediate(res));
      }
    }
  }
}

const STALL = new Int32Array(new SharedArrayBuffer(4));

/** --inject stall: hold the thread `ms` of wall time, as the OS does a woken thread on a loaded host. */
function stall(ms: number): void {
  Atomics.wait(STALL, 0, 0, ms);
}

function aborted(): JobAborted {
  return new JobAborted('another rank failed or the job was stopped');
}
