// Rank 1 throws while rank 0 waits for it forever: the job must end with rank 1's error, not hang.
import { init } from '@tsmpi/mpi';

const world = init();
if (world.rank === 1) {
  throw new Error('boom in rank 1');
}
world.recvObject(1, 0); // never satisfied
