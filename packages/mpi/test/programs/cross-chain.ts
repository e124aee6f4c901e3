// cross-tie.ts over three node processes (issue 18, item 2): rank 2 → rank 0 → rank 1 → rank 2, one
// rank per node, rank 2 computing meanwhile. Rank 2's node learns that rank 0's hold ended (rank 0's
// node got rank 1's node's answer) from rank 0's node, and the event behind that answer from rank 1's
// node, on another connection; the relay in each PROMISE (fabric net/sequencer.ts) keeps rank 2 from
// trusting rank 1's stale bound in between.
//   argv: rounds
import { type Comm } from '@tsmpi/mpi';

const rounds = Number(process.argv[2] ?? 20);

export function main(c: Comm) {
  const b = c.alloc(Float64Array, 1);
  /** Rounds whose reply matched a receive already posted (none, in virtual-time order). */
  const posted: number[] = [];
  for (let i = 0; i < rounds; i++) {
    if (c.rank === 2) {
      b.set([i]);
      c.send(b, 0, 1);
      c.compute(50e-6);
      const before = c.stats().messages.matchedPosted;
      c.recv(b, 1, 3);
      if (c.stats().messages.matchedPosted !== before) posted.push(i);
    } else if (c.rank === 0) {
      c.recv(b, 2, 1);
      c.send(b, 1, 2);
    } else if (c.rank === 1) {
      c.recv(b, 0, 2);
      c.send(b, 2, 3);
    }
  }
  const last = b.toArray()[0]!;
  b.free();
  return { posted, last };
}
