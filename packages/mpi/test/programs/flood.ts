// A flood of small messages among all ranks (MPICH's "sendflood" spirit): every rank sends `count`
// tagged Int32 messages to every other rank and receives all of its own with ANY_SOURCE / ANY_TAG.
import { ANY_SOURCE, ANY_TAG, Request, init } from '@tsmpi/mpi';

const world = init();
const count = Number(process.argv[2] ?? 100);
const { rank, size } = world;

export function main() {
  const sends: Request[] = [];
  const bufs = [];
  for (let i = 0; i < count; i++) {
    for (let d = 1; d < size; d++) {
      const dest = (rank + d) % size;
      const b = world.alloc(Int32Array, 2);
      b.set([rank, i]);
      bufs.push(b);
      sends.push(world.isend(b, dest, i));
    }
  }
  const perSource = new Array(size).fill(0);
  const lastSeq = new Array(size).fill(-1);
  let outOfOrder = 0;
  let tagMismatch = 0;
  const r = world.alloc(Int32Array, 2);
  for (let k = 0; k < count * (size - 1); k++) {
    const st = world.recv(r, ANY_SOURCE, ANY_TAG);
    const [src, seq] = r.toArray();
    if (src !== st.source || seq !== st.tag) tagMismatch++;
    if (seq! <= lastSeq[src!]) outOfOrder++;
    lastSeq[src!] = seq!;
    perSource[src!]++;
  }
  Request.waitAll(sends);
  bufs.forEach((b) => b.free());
  return { perSource, outOfOrder, tagMismatch, eagerSends: world.stats().messages.eagerSends };
}
