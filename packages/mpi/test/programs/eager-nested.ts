// Rank 0 floods rank 1 with more eager sends than it has bounce send slots while rank 1 is busy, and
// ranks 0, 2 and 3 have nonblocking barriers and allreduces in flight among themselves: rank 0's send that waits
// for a slot runs progress, which runs the barriers' next rounds, whose eager sends fill frames of
// their own meanwhile (p2p/eager-frames.ts). Every byte of every message and every sum is checked.
// Run it with --timing fast: exact timing would hold rank 0 back at rank 1's clock instead.
import { Request, SUM, init } from '@tsmpi/mpi';

const world = init();
const n = Number(process.argv[2] ?? 300);
const bytes = Number(process.argv[3] ?? 200);
const busyMs = Number(process.argv[4] ?? 300);
const pattern = (i: number, j: number) => (i * 7 + j) & 0xff;

export function main() {
  const sub = world.split(world.rank === 1 ? 1 : 0)!;
  const sums = Array.from({ length: 8 }, (_, k) => {
    const x = world.alloc(Float64Array, 4);
    x.set([sub.rank + k, 1, 2, 3]);
    const y = world.alloc(Float64Array, 4);
    return { y, req: sub.iallreduce(x, y, SUM) };
  });
  // dissemination: each round's send follows the previous round's receive
  const barriers = Array.from({ length: 8 }, () => sub.ibarrier());
  let bad = 0;
  if (world.rank === 0) {
    const out = Array.from({ length: n }, (_, i) => {
      const b = world.alloc(Uint8Array, bytes);
      b.set(Uint8Array.from({ length: bytes }, (_, j) => pattern(i, j)));
      return b;
    });
    Request.waitAll(out.map((b, i) => world.isend(b, 1, i)));
  } else if (world.rank === 1) {
    const until = performance.now() + busyMs; // busy: its receive slots fill, rank 0's sends park, then wait for slots
    while (performance.now() < until);
    const inb = Array.from({ length: n }, () => world.alloc(Uint8Array, bytes));
    Request.waitAll(inb.map((b, i) => world.irecv(b, 0, i)));
    inb.forEach((b, i) => {
      const got = b.toArray();
      for (let j = 0; j < bytes; j++) if (got[j] !== pattern(i, j)) bad++;
    });
  }
  Request.waitAll([...barriers, ...sums.map((s) => s.req)]);
  let wrongSums = 0;
  const p = sub.size;
  sums.forEach((s, k) => {
    const got = s.y.toArray();
    if (got[0] !== (p * (p - 1)) / 2 + p * k || got[1] !== p || got[2] !== 2 * p || got[3] !== 3 * p) wrongSums++;
  });
  return { bad, wrongSums, blockingWaits: world.stats().messages.blockingWaits };
}
