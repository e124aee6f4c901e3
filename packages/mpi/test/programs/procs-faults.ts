// Faults across node processes; the first argument picks one.
//   throw     rank `size - 1` (on the last node) throws after a barrier; the others wait to receive from it
//   deadlock  every rank receives from its right neighbour, tag 7, which nobody sends
//   hang      every rank says it runs (with its process id) and then waits for a message that never comes,
//             until the test kills a node process
import { init } from '@tsmpi/mpi';

export function main(): void {
  const world = init();
  const what = process.argv[2];
  const buf = world.alloc(Int32Array, 1);
  world.barrier();
  if (what === 'throw') {
    if (world.rank === world.size - 1) throw new Error(`boom on the last node (rank ${world.rank})`);
    world.recv(buf, world.size - 1, 3);
  } else if (what === 'deadlock') {
    world.recv(buf, (world.rank + 1) % world.size, 7);
  } else if (what === 'hang') {
    console.log(`running rank=${world.rank} pid=${process.pid}`);
    world.recv(buf, (world.rank + 1) % world.size, 9);
  } else {
    throw new Error(`procs-faults: unknown fault '${what}'`);
  }
}
