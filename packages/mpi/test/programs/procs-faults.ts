// Faults across node processes; the first argument picks one.
//   throw     rank `size - 1` (on the last node) throws after a barrier; the others wait to receive from it
//   deadlock  every rank receives from its right neighbour, tag 7, which nobody sends
//   ring      every rank passes a message to its right neighbour, 20 rounds (under --inject link-down or
//             qp-error the job fails typed naming the fault)
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
  } else if (what === 'ring') {
    const right = (world.rank + 1) % world.size;
    const left = (world.rank + world.size - 1) % world.size;
    const got = world.alloc(Int32Array, 1);
    for (let i = 0; i < 20; i++) {
      buf.set([world.rank * 100 + i]);
      const r = world.irecv(got, left, 5);
      world.send(buf, right, 5);
      r.wait();
      const v = got.toArray()[0];
      if (v !== left * 100 + i) throw new Error(`rank ${world.rank}: round ${i} got ${v} from rank ${left}`);
    }
  } else if (what === 'hang') {
    console.log(`running rank=${world.rank} pid=${process.pid}`);
    world.recv(buf, (world.rank + 1) % world.size, 9);
  } else {
    throw new Error(`procs-faults: unknown fault '${what}'`);
  }
}
