import { idleUntil } from '../p2p/ports.js';
import { RmaSyncError } from './errors.js';
import type { TargetInfo } from './directory.js';
import type { TargetAccess } from './target-access.js';

/** Control-block words of general active-target synchronisation: posts seen (at an origin), completions seen (at a target). */
export const POSTS_OFFSET = 24;
export const COMPLETES_OFFSET = 32;

const MAX_POLLS = 200_000;
const POLL_US = 0.5;
const MAX_POLL_US = 20;

/**
 * Tells each rank of `group` one event happened here: a remote fetch-and-add of 1 on the word at
 * `offset` of its control block (post → origins, complete → targets). No progress needed there.
 */
export function notify(access: TargetAccess, infos: readonly TargetInfo[], group: readonly number[], offset: number, what: string): void {
  for (const r of group) access.atomic(r, 'fetch-add', infos[r]!.ctlAddr + offset, infos[r]!.ctlRkey, 1n, 0n, what);
}

/**
 * Waits until this rank's word at `ctl + offset` has counted `n` events, then takes them (MPI_Win_start
 * waits for the targets' posts, MPI_Win_wait for the origins' completes). The word is written by other
 * ranks' atomics, which make no event here: the rank polls it in virtual time (each poll a program call,
 * so every atomic posted earlier in virtual time has run), backing off as the lock loop does.
 */
export function awaitCount(access: TargetAccess, ctl: number, offset: number, n: number, what: string): void {
  if (n === 0) return;
  const clock = access.clock;
  let pause = POLL_US;
  for (let polls = 0; polls < MAX_POLLS; polls++) {
    access.sync();
    const word = access.localWord(ctl + offset);
    if (Atomics.load(word, 0) >= BigInt(n)) {
      Atomics.sub(word, 0, BigInt(n));
      return;
    }
    idleUntil(clock, clock.now + pause);
    pause = Math.min(MAX_POLL_US, pause * 2);
  }
  throw new RmaSyncError(`${what}: ${n} ranks never answered after ${MAX_POLLS} polls: do the matching post/start/complete/wait calls exist?`);
}
