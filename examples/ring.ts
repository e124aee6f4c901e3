// Run: npx tsmpi run -n 4 examples/ring.ts
//      npx tsmpi run -n 6 --nodes 2 examples/ring.ts   (the ring crosses the modeled network twice)
// A token travels around the ring, each rank adding its rank to it; then every rank shifts a
// 64 KiB block to its right neighbour at once with sendrecv (rendezvous, no deadlock), and checks it.
import { init } from '@tsmpi/mpi';

const world = init();
const { rank, size } = world;
const right = (rank + 1) % size;
const left = (rank - 1 + size) % size;

const token = world.alloc(Int32Array, 1);
if (rank === 0) {
  token.set([0]);
  world.send(token, right, 1);
  world.recv(token, left, 1);
  const sum = token.toArray()[0]!;
  const expected = (size * (size - 1)) / 2;
  console.log(`token came back to rank 0 carrying ${sum} (expected ${expected})`);
  if (sum !== expected) throw new Error(`token sum ${sum} != ${expected}`);
} else {
  world.recv(token, left, 1);
  token.set([token.toArray()[0]! + rank]);
  world.send(token, right, 1);
}

const n = 16 * 1024; // 64 KiB of Int32: above the eager threshold
const out = world.alloc(Int32Array, n);
const inb = world.alloc(Int32Array, n);
out.set(Int32Array.from({ length: n }, (_, i) => rank * 1_000_000 + i));
const status = world.sendrecv(out, right, 2, inb, left, 2);
const got = inb.toArray();
for (let i = 0; i < n; i++) {
  if (got[i] !== left * 1_000_000 + i) throw new Error(`rank ${rank}: element ${i} from rank ${left} is ${got[i]}`);
}
console.log(`rank ${rank}: got ${status.count} ints from rank ${status.source}, all correct; virtual time ${(world.wtime() * 1e6).toFixed(2)} us`);
