// The same collectives, blocking or nonblocking-then-wait (process.argv[2]); returns the rank's clock.
import { SUM, type Comm } from '@tsmpi/mpi';

export function main(c: Comm) {
  const nb = process.argv[2] === 'nonblocking';
  const s = c.alloc(Float64Array, 3000);
  s.fill(c.rank);
  const r = c.alloc(Float64Array, 3000);
  const small = c.alloc(Float64Array, 10);
  if (nb) {
    c.iallreduce(s, r, SUM).wait();
    c.ibcast(s, 1).wait();
    c.ireduce(small, c.rank === 0 ? r.subarray(0, 10) : null, SUM, 0).wait();
    c.ibarrier().wait();
  } else {
    c.allreduce(s, r, SUM);
    c.bcast(s, 1);
    c.reduce(small, c.rank === 0 ? r.subarray(0, 10) : null, SUM, 0);
    c.barrier();
  }
  return c.wtime();
}
