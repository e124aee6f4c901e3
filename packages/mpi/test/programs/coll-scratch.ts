// Large allreduces on a communicator: its scratch buffer (collectives/scratch.ts) is kept between
// calls and freed with the communicator. Reports the rank's registration-cache counters after each
// step and whether every sum was right.
import { SUM, init } from '@tsmpi/mpi';

const world = init();
const count = Number(process.argv[2] ?? 32768); // 256 KiB of doubles: above the heap's mmap threshold
const calls = Number(process.argv[3] ?? 3);

export function main() {
  const comm = world.dup();
  const x = comm.alloc(Float64Array, count);
  const y = comm.alloc(Float64Array, count);
  x.fill(comm.rank + 1);
  const steps: { registrations: number; invalidations: number; misses: number }[] = [];
  const snap = () => {
    const r = world.stats().rcache;
    steps.push({ registrations: r.registrations!, invalidations: r.invalidations!, misses: r.misses! });
  };
  snap();
  let wrong = 0;
  const want = (comm.size * (comm.size + 1)) / 2;
  for (let i = 0; i < calls; i++) {
    comm.allreduce(x, y, SUM);
    if (y.toArray().some((v) => v !== want)) wrong++;
    snap();
  }
  comm.free();
  // the cache hears of an unmap at its next operation: one large exchange
  const peer = world.rank ^ 1;
  if (peer < world.size) world.sendrecv(x, peer, 9, y, peer, 9);
  snap();
  return { wrong, steps, virtualUs: world.wtime() * 1e6 };
}
