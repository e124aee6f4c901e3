// Both ranks post `n` large sends and `n` large receives toward each other at once: more RTS and FIN
// envelopes in flight than the rank has bounce slots, so sends wait for slots and FINs queue.
import { Request, init } from '@tsmpi/mpi';

const world = init();
const n = Number(process.argv[2] ?? 200);
const bytes = Number(process.argv[3] ?? 13 * 1024);
const peer = 1 - world.rank;

export function main() {
  const out = Array.from({ length: n }, (_, i) => {
    const b = world.alloc(Uint8Array, bytes);
    b.fill((world.rank * 100 + i) & 0xff);
    return b;
  });
  const inb = Array.from({ length: n }, () => world.alloc(Uint8Array, bytes));
  const reqs = [...inb.map((b, i) => world.irecv(b, peer, i)), ...out.map((b, i) => world.isend(b, peer, i))];
  Request.waitAll(reqs);
  let bad = 0;
  inb.forEach((b, i) => {
    const want = (peer * 100 + i) & 0xff;
    for (const x of b.toArray()) if (x !== want) bad++;
  });
  const m = world.stats().messages;
  return { bad, rendezvousSends: m.rendezvousSends, rdmaReads: m.rdmaReads };
}
