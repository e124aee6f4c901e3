// Run: npx tsmpi run -n 4 examples/hello.ts
// Every rank says hello, then rank 0 collects one object from each (point-to-point, msgpack objects).
import { init } from '@tsmpi/mpi';

const world = init();
console.log(`hello from rank ${world.rank} of ${world.size}`);

if (world.rank === 0) {
  const names: string[] = [];
  for (let r = 1; r < world.size; r++) names.push(world.recvObject<{ name: string }>(r, 0).name);
  console.log(`rank 0 heard from: ${names.join(', ') || 'nobody (run with -n 2 or more)'}`);
} else {
  world.sendObject({ name: `rank-${world.rank}` }, 0, 0);
}
