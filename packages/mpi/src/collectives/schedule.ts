import { waitAllOwnError } from '../request.js';
import { irecv, isend } from './transport.js';
import type { Buffer, CollectiveComm, PointToPoint, TypedArray, TypedArrayCtor, Waitable } from './types.js';

/**
 * A collective written as a schedule of rounds, as MPICH's nonblocking-collective schedules
 * and libNBC's rounds: a generator that posts one round's isends and irecvs, yields them,
 * and resumes once every one has completed; local work (copies, reductions) runs between
 * rounds. The blocking form waits at each round (runBlocking); the nonblocking form
 * (nonblocking.ts) advances the very same generator from its request's progress hook, so
 * both put the same messages on the wire.
 */
export type Schedule = Generator<Waitable[], void, void>;

/** Runs a schedule to its end, waiting for each round; an error ends it (its `finally` blocks free temporaries). */
export function runBlocking(s: Schedule): void {
  let step = s.next();
  while (!step.done) {
    try {
      waitAllOwnError(step.value);
    } catch (e) {
      s.return();
      throw e;
    }
    step = s.next();
  }
}

/** One round of sendrecv: receive `rbuf` from `source` while sending `sbuf` to `dest` (empty sides post nothing). */
export function exchangeRound(tw: PointToPoint, sbuf: Buffer, dest: number, rbuf: Buffer, source: number, tag: number): Waitable[] {
  const round: Waitable[] = [];
  irecv(tw, rbuf, source, tag, round);
  isend(tw, sbuf, dest, tag, round);
  return round;
}

/** A temporary in the rank's simulated memory (scratch.ts); the schedule frees it in `finally`. */
export { temporary } from './scratch.js';

// One blocking point-to-point call of an algorithm as a step of its schedule: posting nothing for
// an empty buffer, exactly as transport's send/recv/exchange, so both forms send the same messages.

export function* sendStep(tw: PointToPoint, buf: Buffer, dest: number, tag: number): Schedule {
  const round: Waitable[] = [];
  isend(tw, buf, dest, tag, round);
  if (round.length) yield round;
}

export function* recvStep(tw: PointToPoint, buf: Buffer, source: number, tag: number): Schedule {
  const round: Waitable[] = [];
  irecv(tw, buf, source, tag, round);
  if (round.length) yield round;
}

export function* exchangeStep(tw: PointToPoint, sbuf: Buffer, dest: number, rbuf: Buffer, source: number, tag: number): Schedule {
  const round = exchangeRound(tw, sbuf, dest, rbuf, source, tag);
  if (round.length) yield round;
}
