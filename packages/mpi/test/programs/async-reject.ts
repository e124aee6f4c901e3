// An error in a rank's async main (an awaited request's follow-up) is reported like any other.
import { init } from '@tsmpi/mpi';

const world = init();
export async function main() {
  if (world.rank === 0) {
    const b = world.alloc(Int32Array, 2);
    const r = world.irecv(b, 1, 1);
    await r;
    throw new RangeError(`rank 0 got ${b.toArray().join(',')} and rejects it`);
  } else {
    const b = world.alloc(Int32Array, 2);
    b.set([4, 2]);
    await world.isend(b, 0, 1);
  }
}
