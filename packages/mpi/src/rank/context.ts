import type { Comm } from '../comm.js';
import { NotInRank } from '../errors.js';

/** The rank this thread runs, set by the rank bootstrap before the program is imported. */
interface Current {
  world: Comm;
  setResult(value: unknown): void;
}

let current: Current | undefined;

/** @internal */
export function setCurrentRank(c: Current | undefined): void {
  current = c;
}

/**
 * The world communicator of this rank (MPI_Init + MPI_COMM_WORLD). Works inside a program started by
 * `tsmpi run` or runJob(); anywhere else it throws NotInRank. Calling it again returns the same Comm.
 */
export function init(): Comm {
  if (!current) throw new NotInRank();
  return current.world;
}

/** True inside a rank (so a module can be both a library and a program). */
export function inRank(): boolean {
  return current !== undefined;
}

/**
 * Hands a value (structured-cloneable: numbers, strings, arrays, plain objects, typed arrays) back to
 * the launcher: runJob() returns it in ranks[i].value. A program's exported main() may return it instead.
 */
export function setResult(value: unknown): void {
  init();
  current!.setResult(value);
}
