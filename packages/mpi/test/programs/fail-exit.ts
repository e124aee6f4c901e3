// Rank 1 exits with status 3 in the middle of the job; the other ranks are blocked in a receive.
import { init } from '@tsmpi/mpi';

const world = init();
if (world.rank === 1) process.exit(3);
world.recvObject(1, 0);
