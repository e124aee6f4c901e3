// A classic deadlock: every rank receives from its right neighbour before anyone sends.
import { init } from '@tsmpi/mpi';

const world = init();
const b = world.alloc(Float64Array, 4);
world.recv(b, (world.rank + 1) % world.size, 11);
world.send(b, (world.rank + world.size - 1) % world.size, 11);
