import { InvalidComm, TAG_UB } from '../errors.js';

/**
 * Context ids of new communicators. A rank hands out ids from a counter of its own and never hands
 * one out twice; an id is (counter value, world rank), so ids handed out by different ranks differ
 * too, and one rank's id can be adopted by a whole group without asking anyone else (MPICH needs a
 * bitmask allreduce because its ids are small; ours fit the envelope's 32 bits). Each new
 * communicator takes the id its leader hands out: dup, split, commCreate and idup the parent's rank
 * 0, commCreateGroup the group's rank 0, intercommCreate and merge one of the two leaders. As the
 * leader draws the id in the call, before any message, concurrent idups on overlapping
 * communicators cannot end up with one id, and nothing needs to be reclaimed on free().
 *
 * One id covers CONTEXTS_PER_ID consecutive contexts: the communicator (point-to-point), its
 * collective twin (+ 1), and for an intercommunicator the local group's communicator and its twin.
 */
export const CONTEXTS_PER_ID = 4;

/** Largest context the envelope carries (i32). */
const CONTEXT_MAX = 0x7fff_ffff;

/** Tag of the runtime's own messages on a collective twin when it makes communicators (user collectives never use it). */
export const CONTEXT_TAG = TAG_UB;

/** The per-rank counter (RankRuntimeFace) and what makes its ids unique in the job. */
export interface ContextSource {
  readonly worldRank: number;
  readonly worldSize: number;
  nextContext: number;
}

/**
 * A context no communicator of the job uses yet, drawn from this rank's counter; EXHAUSTED when the
 * envelope's 32 bits hold no more. The leader sends EXHAUSTED like any context, and every rank that
 * receives it throws (checkDrawn), so the whole group fails alike instead of waiting on the leader.
 */
export function freshContext(rt: ContextSource): number {
  const context = (rt.nextContext * rt.worldSize + rt.worldRank) * CONTEXTS_PER_ID;
  if (context + CONTEXTS_PER_ID - 1 > CONTEXT_MAX) return EXHAUSTED;
  rt.nextContext++;
  return context;
}

/** What freshContext() draws once the ids have run out. */
export const EXHAUSTED = -1;

/** The context a leader drew, or the typed error if it had none left. */
export function checkDrawn(context: number, op: string): number {
  if (context !== EXHAUSTED) return context;
  throw new InvalidComm(
    `${op}(): context ids exhausted: the leader of this call has made so many communicators that the envelope's 32-bit ` +
      `context holds no more, and free()d ones are not reused; keep communicators and reuse them instead of making one per step`,
  );
}

/** Point-to-point of small objects: a collective twin, or a provisional communicator over a group. */
export interface ObjectChannel {
  readonly rank: number;
  readonly size: number;
  sendObject(value: unknown, dest: number, tag?: number): void;
  recvObject<V = unknown>(source?: number, tag?: number): V;
}

/** Linear allgather of small objects through rank 0 (the runtime's own, independent of src/collectives). */
export function allgatherSmall<V>(c: ObjectChannel, mine: V, tag = CONTEXT_TAG): V[] {
  if (c.rank === 0) {
    const all: V[] = [mine];
    for (let r = 1; r < c.size; r++) all.push(c.recvObject<V>(r, tag));
    for (let r = 1; r < c.size; r++) c.sendObject(all, r, tag);
    return all;
  }
  c.sendObject(mine, 0, tag);
  return c.recvObject<V[]>(0, tag);
}

/** Linear bcast of a small object from `root` (what the other ranks pass is ignored). */
export function bcastSmall<V>(c: ObjectChannel, value: V, root: number, tag = CONTEXT_TAG): V {
  if (c.rank !== root) return c.recvObject<V>(root, tag);
  for (let r = 0; r < c.size; r++) if (r !== root) c.sendObject(value, r, tag);
  return value;
}

/** The context rank 0 of `c` draws, known to every rank of `c`. Collective over `c`. */
export function leaderContext(c: ObjectChannel, rt: ContextSource, op: string): number {
  return checkDrawn(bcastSmall(c, c.rank === 0 ? freshContext(rt) : 0, 0), op);
}
