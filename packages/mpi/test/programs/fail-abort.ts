// Rank 0 calls abort(5) (MPI_Abort) while the others compute and then block.
import { init } from '@tsmpi/mpi';

const world = init();
if (world.rank === 0) world.abort(5, 'giving up on purpose');
world.recvObject(0, 0);
