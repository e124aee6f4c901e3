// The program bench/mpi/scale.ts runs on every rank: a barrier and an allreduce whose every element
// is checked (so a lost or doubled contribution fails the job), then `rounds` barriers timed on the
// wall clock between two barriers (rank 0's figure is the one reported).
import { init, SUM } from '@tsmpi/mpi';

export function main(): { sum: number; barrierWallMs: number } {
  const world = init();
  const rounds = Number(process.argv[2] ?? 10);
  world.barrier();
  const n = world.size;
  const send = world.alloc(Float64Array, 64);
  const recv = world.alloc(Float64Array, 64);
  send.set(Float64Array.from({ length: 64 }, (_, i) => world.rank + i));
  world.allreduce(send, recv, SUM);
  const got = recv.toArray();
  for (let i = 0; i < 64; i++) {
    const want = (n * (n - 1)) / 2 + n * i;
    if (got[i] !== want) throw new Error(`allreduce element ${i}: ${got[i]} != ${want}`);
  }
  world.barrier();
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) world.barrier();
  const barrierWallMs = (performance.now() - t0) / Math.max(1, rounds);
  return { sum: got[0]!, barrierWallMs };
}
