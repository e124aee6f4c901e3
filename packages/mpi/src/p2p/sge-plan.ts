import type { Range } from './operations.js';

/** One RDMA read of an sge rendezvous: a contiguous stretch of the sender's data into local pieces. */
export interface PlannedRead {
  readonly remoteAddr: number;
  readonly length: number;
  readonly pieces: readonly Range[];
}

/**
 * The reads that move `remote` (the sender's segments, in order) into `local` (the receiver's, in
 * order): a read never crosses a sender segment (its remote side is one range) and carries at most
 * `maxSge` local pieces. Stops when the remote data ends (the local side may be larger).
 */
export function planReads(remote: readonly Range[], local: readonly Range[], maxSge: number): PlannedRead[] {
  const reads: PlannedRead[] = [];
  let j = 0;
  let usedOfLocal = 0;
  for (const r of remote) {
    let done = 0;
    while (done < r.length) {
      const start = done;
      const pieces: Range[] = [];
      while (done < r.length && pieces.length < maxSge) {
        const l = local[j];
        if (l === undefined) throw new RangeError(`planReads: the local side holds fewer bytes than the remote segments`);
        const n = Math.min(r.length - done, l.length - usedOfLocal);
        if (n > 0) pieces.push({ addr: l.addr + usedOfLocal, length: n });
        done += n;
        usedOfLocal += n;
        if (usedOfLocal === l.length) {
          j++;
          usedOfLocal = 0;
        }
      }
      reads.push({ remoteAddr: r.addr + start, length: done - start, pieces });
    }
  }
  return reads;
}
