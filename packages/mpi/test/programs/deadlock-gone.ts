// Rank 0 finishes without sending; rank 1 waits for it forever (a deadlock with one rank gone).
import { init } from '@tsmpi/mpi';

const world = init();
if (world.rank === 1) world.recvObject(0, 4);
