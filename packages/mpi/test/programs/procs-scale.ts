// Many ranks over several node processes: a barrier, then an allreduce whose result every rank checks.
import { init, SUM } from '@tsmpi/mpi';

export function main(): { sum: number } {
  const world = init();
  world.barrier();
  const send = world.alloc(Float64Array, 64);
  const recv = world.alloc(Float64Array, 64);
  send.set(Float64Array.from({ length: 64 }, (_, i) => world.rank + i));
  world.allreduce(send, recv, SUM);
  const got = recv.toArray();
  const n = world.size;
  for (let i = 0; i < 64; i++) {
    const want = (n * (n - 1)) / 2 + n * i;
    if (got[i] !== want) throw new Error(`allreduce element ${i}: ${got[i]} != ${want}`);
  }
  world.barrier();
  return { sum: got[0]! };
}
