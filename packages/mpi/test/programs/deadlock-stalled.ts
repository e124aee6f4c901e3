// The deadlock detector under a loaded host (--inject stall holds every woken rank thread off its
// core): `handoff` is a healthy job whose ranks hand messages on while the others are stalled;
// `compute` keeps rank 0 computing (its thread stopped) for longer than the window while rank 1 waits.
import { init } from '@tsmpi/mpi';

const mode = process.argv[2];
const holdMs = Number(process.argv[3] ?? 0);
const world = init();
const b = world.alloc(Int32Array, 1);
const got = () => Number(b.toArray()[0]);
const hold = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

if (mode === 'handoff') {
  // rank 1 is asleep in recv when rank 0 sends; each reply finds the other asleep again
  for (let round = 0; round < 2; round++) {
    if (world.rank === 0) {
      hold(holdMs);
      b.set([round]);
      world.send(b, 1, 3);
      world.recv(b, 1, 4);
      if (got() !== round + 100) throw new Error(`rank 0 got ${got()} in round ${round}`);
    } else {
      world.recv(b, 0, 3);
      b.set([got() + 100]);
      world.send(b, 0, 4);
    }
  }
} else if (mode === 'compute') {
  if (world.rank === 0) {
    hold(holdMs);
    b.set([7]);
    world.send(b, 1, 5);
  } else {
    world.recv(b, 0, 5);
    if (got() !== 7) throw new Error(`rank 1 got ${got()}`);
  }
} else {
  throw new Error(`deadlock-stalled: unknown mode ${mode}`);
}
