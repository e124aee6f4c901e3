// The loops of osu_latency and osu_bw between ranks 0 and 1: the units bench/'s latency and bandwidth figures time.
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

/** `iters` round trips of `buf` between ranks 0 and 1, as osu_latency's loop (tag 1). */
export function pingPong(world: Comm, buf: TypedBuffer, iters: number): void {
  const peer = 1 - world.rank;
  for (let i = 0; i < iters; i++) {
    if (world.rank === 0) {
      world.send(buf, peer, 1);
      world.recv(buf, peer, 1);
    } else {
      world.recv(buf, peer, 1);
      world.send(buf, peer, 1);
    }
  }
}
