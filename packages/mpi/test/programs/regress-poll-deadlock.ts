// Issue 20.3: a rank that polls forever for something that can never come.
//   gone    rank 0 finishes; rank 1 polls test() on a receive from it
//   iprobe  rank 0 finishes; rank 1 polls iprobe(0, 5)
//   cross   rank 0 blocks in recv from rank 1; rank 1 polls test() on a receive from rank 0
//   late    not a deadlock: rank 0 computes (wall time, longer than the detection window), then sends
import { init } from '@tsmpi/mpi';

const world = init();
const mode = process.argv[2] ?? 'gone';
const buf = world.alloc(Int32Array, 1);
let polls = 0;

if (world.rank === 0) {
  if (mode === 'cross') world.recv(buf, 1, 6);
  if (mode === 'late') {
    const until = Date.now() + Number(process.argv[3] ?? 1500);
    while (Date.now() < until);
    buf.set([42]);
    world.send(buf, 1, 4);
  }
} else if (world.rank === 1) {
  if (mode === 'iprobe') {
    while (world.iprobe(0, 5) === undefined) polls++;
  } else {
    const r = world.irecv(buf, 0, mode === 'cross' ? 7 : 4);
    while (r.test() === undefined) polls++;
  }
}

export function main() {
  return { polled: polls > 0, value: buf.toArray()[0] };
}
