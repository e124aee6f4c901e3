// Rank 0 sends 16 rendezvous-size messages from 4 rotating buffers, each filled with its own pattern;
// rank 1 checks every byte. Under --inject, a registration may fail: the job either ends here with
// every byte right, or fails with a typed error naming the injected fault.
import { init, setResult } from '@tsmpi/mpi';

const world = init();
const N = 64 * 1024;
const bufs = Array.from({ length: 4 }, () => world.alloc(Uint8Array, N));
let wrong = 0;
for (let i = 0; i < 16; i++) {
  const b = bufs[i % 4]!;
  if (world.rank === 0) {
    b.set(new Uint8Array(N).map((_, j) => (i * 7 + j) & 0xff));
    world.send(b, 1, i);
  } else {
    world.recv(b, 0, i);
    const got = b.toArray();
    for (let j = 0; j < N; j++) if (got[j] !== ((i * 7 + j) & 0xff)) wrong++;
  }
}
setResult({ wrong });
