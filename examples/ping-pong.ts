// Run: npx tsmpi run -n 2 examples/ping-pong.ts
//      npx tsmpi run -n 2 --nodes 2 --rcache off examples/ping-pong.ts   (across the modeled network, pin-per-op)
// Rank 0 and rank 1 bounce a message back and forth at sizes from 8 B to 4 MiB (eager below the
// threshold, RDMA rendezvous above), check every byte, and print the modeled one-way latency and
// bandwidth from the virtual clock (wtime), OSU-style.
import { init } from '@tsmpi/mpi';

const world = init();
if (world.size !== 2) throw new Error(`ping-pong needs exactly 2 ranks (got ${world.size}): run with -n 2`);
const peer = 1 - world.rank;
const iterations = 20;
const warmup = 2; // not timed (OSU skips the first iterations too)

if (world.rank === 0) console.log('# size_bytes   one_way_us   MB_per_s   (virtual time)');
for (let size = 8; size <= 4 * 1024 * 1024; size *= 4) {
  const buf = world.alloc(Uint8Array, size);
  const pattern = new Uint8Array(size);
  for (let i = 0; i < size; i++) pattern[i] = (i * 7 + size) & 0xff;
  if (world.rank === 0) buf.set(pattern);
  let t0 = world.wtime();
  for (let it = -warmup; it < iterations; it++) {
    if (it === 0) t0 = world.wtime();
    const tag = it + warmup;
    if (world.rank === 0) {
      world.send(buf, peer, tag);
      world.recv(buf, peer, tag);
    } else {
      world.recv(buf, peer, tag);
      world.send(buf, peer, tag);
    }
  }
  const oneWayUs = ((world.wtime() - t0) * 1e6) / (2 * iterations);
  const got = buf.toArray();
  for (let i = 0; i < size; i++) {
    if (got[i] !== pattern[i]) throw new Error(`rank ${world.rank}: byte ${i} of the ${size}-byte message is ${got[i]}, expected ${pattern[i]}`);
  }
  if (world.rank === 0) {
    console.log(`${String(size).padStart(11)}  ${oneWayUs.toFixed(3).padStart(11)}  ${(size / oneWayUs).toFixed(1).padStart(9)}`);
  }
  buf.free();
}
