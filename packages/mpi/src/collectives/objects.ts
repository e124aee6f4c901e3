import { InvalidArgument } from '../errors.js';
import type { ReduceOp } from './ops.js';
import { countAlgorithm } from './stats.js';
import { Tag, checkRoot, isendObject, sendObject, twinOf } from './transport.js';
import type { CollectiveComm, Waitable } from './types.js';

/**
 * Object collectives (mpi4py's lowercase methods): any msgpack-able value, carried by the
 * twin's sendObject/recvObject, which never truncate. Same tree shapes as the buffer forms.
 */

export function bcastObject<V>(comm: CollectiveComm, value: V, root: number): V {
  checkRoot('bcastObject', comm, root);
  const p = comm.size;
  if (p === 1) {
    countAlgorithm('bcastObject.trivial');
    return value;
  }
  countAlgorithm('bcastObject.binomial');
  const tw = twinOf(comm);
  const vr = (comm.rank - root + p) % p;
  const abs = (v: number) => (v + root) % p;
  let mask = 1;
  while (mask < p) {
    if (vr & mask) {
      value = tw.recvObject<V>(abs(vr - mask), Tag.bcastObject);
      break;
    }
    mask <<= 1;
  }
  for (mask >>= 1; mask > 0; mask >>= 1) {
    if (vr + mask < p) sendObject(tw, value, abs(vr + mask), Tag.bcastObject);
  }
  return value;
}

/** Returns the p values in rank order on the root, undefined elsewhere. Binomial tree. */
export function gatherObject<V>(comm: CollectiveComm, value: V, root: number): V[] | undefined {
  checkRoot('gatherObject', comm, root);
  const p = comm.size;
  if (p === 1) {
    countAlgorithm('gatherObject.trivial');
    return [value];
  }
  countAlgorithm('gatherObject.binomial');
  const tw = twinOf(comm);
  const vr = (comm.rank - root + p) % p;
  const abs = (v: number) => (v + root) % p;
  // `held` is the subtree's values in relative-rank order.
  let held: V[] = [value];
  for (let mask = 1; mask < p; mask <<= 1) {
    if (vr & mask) {
      sendObject(tw, held, abs(vr - mask), Tag.gatherObject);
      return undefined;
    }
    if (vr + mask < p) held = held.concat(tw.recvObject<V[]>(abs(vr + mask), Tag.gatherObject));
  }
  // Relative order → rank order.
  return held.slice(p - root).concat(held.slice(0, p - root));
}

/** The root passes p values; rank i gets values[i]. Binomial tree (each child gets its subtree's slice). */
export function scatterObject<V>(comm: CollectiveComm, values: readonly V[] | null | undefined, root: number): V {
  checkRoot('scatterObject', comm, root);
  const p = comm.size;
  const isRoot = comm.rank === root;
  if (isRoot && (!Array.isArray(values) || values.length !== p)) {
    throw new InvalidArgument('values', `scatterObject: the root must pass an array of ${p} values (one per rank), got ${Array.isArray(values) ? `${values.length} values` : typeof values}`);
  }
  if (p === 1) {
    countAlgorithm('scatterObject.trivial');
    return values![0]!;
  }
  countAlgorithm('scatterObject.binomial');
  const tw = twinOf(comm);
  const vr = (comm.rank - root + p) % p;
  const abs = (v: number) => (v + root) % p;
  let lowbit = 1;
  while (lowbit < p && !(vr & lowbit)) lowbit <<= 1;
  // `held` is this subtree's values in relative-rank order.
  const held: V[] = isRoot
    ? values!.slice(root).concat(values!.slice(0, root))
    : tw.recvObject<V[]>(abs(vr - lowbit), Tag.scatterObject);
  for (let mask = lowbit >> 1; mask > 0; mask >>= 1) {
    if (vr + mask < p) sendObject(tw, held.slice(mask, 2 * mask), abs(vr + mask), Tag.scatterObject);
  }
  return held[0]!;
}

/** Every rank gets the p values in rank order: gather to rank 0, then bcast (2 log2 p steps). */
export function allgatherObject<V>(comm: CollectiveComm, value: V): V[] {
  countAlgorithm('allgatherObject.gatherBcast');
  return bcastObject(comm, gatherObject(comm, value, 0) ?? [], 0);
}

/** values[j] goes to rank j; returns the value from every rank, in rank order. Pairwise exchange. */
export function alltoallObject<V>(comm: CollectiveComm, values: readonly V[]): V[] {
  const p = comm.size;
  const r = comm.rank;
  if (!Array.isArray(values) || values.length !== p) {
    throw new InvalidArgument('values', `alltoallObject: pass an array of ${p} values (one per destination rank), got ${Array.isArray(values) ? `${values.length} values` : typeof values}`);
  }
  const out = new Array<V>(p);
  out[r] = values[r]!;
  countAlgorithm(p === 1 ? 'alltoallObject.trivial' : 'alltoallObject.pairwise');
  if (p === 1) return out;
  const tw = twinOf(comm);
  for (let step = 1; step < p; step++) {
    const dest = (r + step) % p;
    const source = (r - step + p) % p;
    // Post the send first so a rendezvous-sized object cannot deadlock the pair.
    const req: Waitable = isendObject(tw, values[dest], dest, Tag.alltoallObject);
    out[source] = tw.recvObject<V>(source, Tag.alltoallObject);
    req.wait();
  }
  return out;
}

export type ReduceFn<V> = (left: V, right: V) => V;

export function toFn<V>(name: string, op: ReduceFn<V> | ReduceOp): ReduceFn<V> {
  if (typeof op === 'function') return op;
  if (op && typeof op.combine === 'function') return (l, r) => op.combine(l, r) as V;
  throw new InvalidArgument('op', `${name}: op must be a function (left, right) => value or a ReduceOp such as SUM`);
}

/**
 * Reduce with any associative function, even a non-commutative one: the tree runs over
 * absolute ranks rooted at rank 0 and always calls fn(lower ranks' partial, higher ranks'
 * partial), so the result is fn-folded in rank order; rank 0 then forwards it to the root.
 * Returns the result on the root, undefined elsewhere.
 */
export function reduceObject<V>(comm: CollectiveComm, value: V, op: ReduceFn<V> | ReduceOp, root: number): V | undefined {
  checkRoot('reduceObject', comm, root);
  const fn = toFn('reduceObject', op);
  const p = comm.size;
  const r = comm.rank;
  if (p === 1) {
    countAlgorithm('reduceObject.trivial');
    return value;
  }
  countAlgorithm('reduceObject.binomial');
  const tw = twinOf(comm);
  let acc = value;
  for (let mask = 1; mask < p; mask <<= 1) {
    if (r & mask) {
      sendObject(tw, acc, r - mask, Tag.reduceObject);
      break;
    }
    if (r + mask < p) acc = fn(acc, tw.recvObject<V>(r + mask, Tag.reduceObject));
  }
  if (root === 0) return r === 0 ? acc : undefined;
  if (r === 0) sendObject(tw, acc, root, Tag.reduceObject);
  return r === root ? tw.recvObject<V>(0, Tag.reduceObject) : undefined;
}

/**
 * reduceObject to rank 0, then bcastObject: fn runs once per tree edge and every rank gets
 * the very value rank 0 computed, so results agree bit for bit even if fn is not
 * deterministic across inputs' order.
 */
export function allreduceObject<V>(comm: CollectiveComm, value: V, op: ReduceFn<V> | ReduceOp): V {
  countAlgorithm('allreduceObject.reduceBcast');
  return bcastObject(comm, reduceObject(comm, value, op, 0) as V, 0);
}
