// A reply that crosses node processes while its asker moves on (issue 18's cross-process tie).
//   argv: rounds
// Rank 1 sends rank 0 a note, computes past the time rank 0's reply reaches it, then receives the
// reply: in virtual time the reply is always there first, so every one is matched as unexpected. Two
// orders used to decide it by thread timing instead: rank 1 read its own completion queue before the
// other ranks' bounds (rank 0 could push its reply and block in between), and across processes rank 1
// trusted a bound of rank 0 that rank 0's node had promised before it applied the note (a cached
// mirror, or an answer that overtook the promise that lowered it).
import { type Comm } from '@tsmpi/mpi';

const rounds = Number(process.argv[2] ?? 20);

export function main(c: Comm) {
  const note = c.alloc(Float64Array, 1);
  const reply = c.alloc(Float64Array, 1);
  const seen: number[] = [];
  /** Rounds whose reply matched a receive already posted (none, in virtual-time order). */
  const posted: number[] = [];
  for (let i = 0; i < rounds; i++) {
    if (c.rank === 1) {
      note.set([i]);
      c.send(note, 0, 1);
      c.compute(50e-6);
      const before = c.stats().messages.matchedPosted;
      c.recv(reply, 0, 2);
      if (c.stats().messages.matchedPosted !== before) posted.push(i);
      seen.push(reply.toArray()[0]!);
    } else if (c.rank === 0) {
      c.recv(note, 1, 1);
      reply.set([note.toArray()[0]! * 10]);
      c.send(reply, 1, 2);
    }
  }
  note.free();
  reply.free();
  return { seen, posted };
}
