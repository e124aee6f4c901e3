import { CONGRUENT, IDENT, SIMILAR, UNEQUAL } from '../constants.js';
import { InvalidArgument, InvalidComm } from '../errors.js';
import { compareMembers } from '../group.js';

/**
 * A communicator's life after creation: its name, free(), and comparison. State lives on the
 * communicator object under symbols, so the layers above need no fields for it.
 */

const kFreed = Symbol('tsmpi.freed');
const kName = Symbol('tsmpi.name');
const kGuarded = Symbol('tsmpi.freedGuard');

/** Longest name setName() takes (MPI_MAX_OBJECT_NAME). */
export const MAX_OBJECT_NAME = 128;

/** What comparison and naming read from a communicator. */
export interface CommIdentity {
  readonly context: number;
  readonly members: readonly number[];
  readonly remoteMembers?: readonly number[];
}

type Lifecycle = CommIdentity & { [kFreed]?: boolean; [kName]?: string };

/**
 * MPI_Comm_free: the communicator refuses every later call, while operations already posted on it
 * go on to complete (they hold the engine's state, not the communicator). The world cannot be freed.
 */
export function freeComm(comm: CommIdentity, isWorld: boolean): void {
  if (isWorld) throw new InvalidComm('free(): the world communicator cannot be freed; free only communicators you created');
  (comm as Lifecycle)[kFreed] = true;
}

export function isFreed(comm: object): boolean {
  return (comm as Lifecycle)[kFreed] === true;
}

export function setName(comm: CommIdentity, name: string): void {
  if (typeof name !== 'string') throw new InvalidArgument('name', `setName(): expected a string, got ${String(name)}`);
  if (name.length > MAX_OBJECT_NAME) {
    throw new InvalidArgument('name', `setName(): ${name.length} characters is longer than MAX_OBJECT_NAME (${MAX_OBJECT_NAME}); shorten it`);
  }
  (comm as Lifecycle)[kName] = name;
}

/** The name set last; by default MPI_COMM_WORLD for the world and '' for every communicator made from it (names are not inherited). */
export function getName(comm: CommIdentity, isWorld: boolean): string {
  return (comm as Lifecycle)[kName] ?? (isWorld ? 'MPI_COMM_WORLD' : '');
}

/**
 * MPI_Comm_compare: IDENT for the same communicator; CONGRUENT for another context over the same
 * members in the same order; SIMILAR for the same members in another order; UNEQUAL otherwise (and
 * between an intra- and an intercommunicator). Intercommunicators compare both groups.
 */
export function compareComms(a: CommIdentity, b: CommIdentity): number {
  if (typeof b !== 'object' || b === null || !('context' in b)) {
    throw new InvalidArgument('comm', `compare(): expected a communicator, got ${String(b)}`);
  }
  if ((a.remoteMembers === undefined) !== (b.remoteMembers === undefined)) return UNEQUAL;
  const local = compareMembers(a.members, b.members);
  const remote = a.remoteMembers ? compareMembers(a.remoteMembers, b.remoteMembers!) : IDENT;
  if (local === UNEQUAL || remote === UNEQUAL) return UNEQUAL;
  if (local === SIMILAR || remote === SIMILAR) return SIMILAR;
  return a === b || a.context === b.context ? IDENT : CONGRUENT;
}

/**
 * Calls that stay allowed on a freed communicator: memory, clock and counters (the rank's, not the
 * communicator's), and the internals that operations posted before free() use to complete
 * (a nonblocking collective's temporaries and local work).
 */
const STILL_ALLOWED = new Set(['constructor', 'alloc', 'wrap', 'wtime', 'compute', 'stats', 'abort', 'chargeLocal', 'targetOf',
  'checkBuffer', 'checkTyped', 'checkPosition', 'staging', 'checkDest', 'checkSource', 'checkTag', 'checkSend', 'sendMode']);

/** Puts every call of `proto` (its own methods) behind the freed check: a freed communicator throws InvalidComm. */
export function guardFreed(proto: object): void {
  for (const name of Object.getOwnPropertyNames(proto)) {
    if (STILL_ALLOWED.has(name)) continue;
    const d = Object.getOwnPropertyDescriptor(proto, name)!;
    if (typeof d.value !== 'function' || (d.value as { [kGuarded]?: boolean })[kGuarded]) continue;
    const inner = d.value as (...a: unknown[]) => unknown;
    const outer = function (this: Lifecycle, ...a: unknown[]): unknown {
      if (this[kFreed]) throw new InvalidComm(`${name}(): this communicator was freed; use one that is still alive (free() ends a communicator for good)`);
      return inner.apply(this, a);
    };
    Object.defineProperty(outer, 'name', { value: name });
    (outer as unknown as { [kGuarded]: boolean })[kGuarded] = true;
    Object.defineProperty(proto, name, { ...d, value: outer });
  }
}
