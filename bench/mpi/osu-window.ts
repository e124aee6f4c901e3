// One window of osu_bw between ranks 0 and 1: the unit every bandwidth figure of bench/ times.
import { Request, type Comm, type TypedBuffer } from '@tsmpi/mpi';

/** Rank 0 sends every buffer of the window, rank 1 receives them all and answers with one byte, as osu_bw's ack. */
export function osuWindow(world: Comm, bufs: readonly TypedBuffer[], ack: TypedBuffer): void {
  const peer = 1 - world.rank;
  if (world.rank === 0) {
    Request.waitAll(bufs.map((b) => world.isend(b, peer, 2)));
    world.recv(ack, peer, 3);
  } else {
    Request.waitAll(bufs.map((b) => world.irecv(b, peer, 2)));
    world.send(ack, peer, 3);
  }
}
