import { stillValid } from '../mr/table.js';
import { faultIn, lockRegions, translateLocked, unlockRegions, type RegionAccess } from './region-access.js';

/** The two verbs atomics: IBV_WR_ATOMIC_FETCH_AND_ADD and IBV_WR_ATOMIC_CMP_AND_SWP, on 8 bytes. */
export type AtomicOp = 'fetch-add' | 'compare-swap';

/** Verbs requires the target of an atomic to be 8 bytes, 8-byte aligned. */
export const ATOMIC_BYTES = 8;

export type AtomicOutcome =
  | { ok: true; old: bigint; faultChunks: number }
  | { ok: false; why: 'segv' | 'revoked' };

/** One BigInt64 view per frame buffer: atomics from every thread of the process meet on it. */
const views = new WeakMap<ArrayBufferLike, BigInt64Array>();

function wordsOf(bytes: Uint8Array): BigInt64Array {
  let v = views.get(bytes.buffer);
  if (v === undefined) {
    v = new BigInt64Array(bytes.buffer, 0, Math.floor(bytes.buffer.byteLength / ATOMIC_BYTES));
    views.set(bytes.buffer, v);
  }
  return v;
}

/**
 * The responder's half of an atomic: translate the 8-byte target through its region's backend
 * (pinning's snapshot, stale or not; ODP's table, faulting first if needed) and apply the operation
 * with Atomics on the frame's BigInt64 view. The MR lock keeps an ODP invalidation out while the
 * word is read and written; atomicity against other ranks' atomics comes from Atomics itself,
 * since the frame buffer is shared by every thread of the node. Values are two's complement 64-bit.
 * The caller has checked the key, access and alignment (an aligned word never crosses a page).
 */
export function dmaAtomic(target: RegionAccess, op: AtomicOp, compareAdd: bigint, swap: bigint, chunkBytes: number): AtomicOutcome {
  let faultChunks = 0;
  for (;;) {
    lockRegions(target, undefined);
    if (!stillValid(target.state, target.slot, target.key, target.which)) {
      unlockRegions(target, undefined);
      return { ok: false, why: 'revoked' };
    }
    const runs = translateLocked(target);
    if (Array.isArray(runs)) {
      const words = wordsOf(target.memory.bytes);
      const index = runs[0]!.offset / ATOMIC_BYTES;
      const old = op === 'fetch-add'
        ? Atomics.add(words, index, BigInt.asIntN(64, compareAdd))
        : Atomics.compareExchange(words, index, BigInt.asIntN(64, compareAdd), BigInt.asIntN(64, swap));
      unlockRegions(target, undefined);
      return { ok: true, old, faultChunks };
    }
    unlockRegions(target, undefined);
    const r = faultIn(target, chunkBytes, target.addr);
    if (r === 'segv' || r === 'revoked') return { ok: false, why: r };
    faultChunks += r.chunks.size;
  }
}
