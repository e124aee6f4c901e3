// Computation on the virtual clock: a busy loop between runtime calls, then compute(s).
import { type Comm } from '@tsmpi/mpi';

export function main(c: Comm) {
  c.barrier();
  const t0 = c.wtime();
  const wall0 = performance.now();
  let x = 0;
  while (performance.now() - wall0 < 40) x += Math.sqrt(x + 1); // ~40 ms of the program's own work
  const wallLoopUs = (performance.now() - wall0) * 1000;
  const t1 = c.wtime();
  const before = c.stats();
  c.compute(0.0025);
  const after = c.stats();
  c.barrier();
  const end = c.stats();
  return {
    loopVirtualUs: (t1 - t0) * 1e6,
    wallLoopUs,
    computeDeltaUs: after.time.computeUs - before.time.computeUs,
    clockDeltaUs: after.virtualUs - before.virtualUs,
    split: end.time,
    virtualUs: end.virtualUs,
    x: x > 0,
  };
}
