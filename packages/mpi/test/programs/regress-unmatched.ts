// A rendezvous send its receiver never matches: rank 0 sends 64 KiB (tag 1), then the message rank 1
// waits for (tag 2). A deadlock: rank 0 waits for the receiver to match, rank 1 for tag 2.
import { init } from '@tsmpi/mpi';

const world = init();
const bytes = Number(process.argv[2] ?? 65536);
if (world.rank === 0) {
  world.send(world.alloc(Uint8Array, bytes), 1, 1);
  world.sendObject('never sent', 1, 2);
} else if (world.rank === 1) {
  world.recvObject(0, 2);
}
