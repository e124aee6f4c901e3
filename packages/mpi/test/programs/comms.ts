// dup and split: new contexts that never match each other's messages, groups ordered by key.
import { ANY_SOURCE, ANY_TAG, SUM, UNDEFINED, init } from '@tsmpi/mpi';

const world = init();
const { rank, size } = world;

export function main() {
  const out: Record<string, unknown> = {};

  // dup: the same (source, tag) on two communicators never cross
  const dup = world.dup();
  if (rank === 0) {
    dup.sendObject('on dup', 1, 5);
    world.sendObject('on world', 1, 5);
  } else if (rank === 1) {
    out.dupFirstOnWorld = world.recvObject(ANY_SOURCE, ANY_TAG);
    out.dupThenOnDup = dup.recvObject(0, 5);
  }

  // split by parity, ordered by descending rank
  const color = rank === size - 1 ? UNDEFINED : rank % 2;
  const sub = world.split(color, -rank);
  if (sub === null) {
    out.sub = null;
  } else {
    const right = (sub.rank + 1) % sub.size;
    const left = (sub.rank - 1 + sub.size) % sub.size;
    const got = sub.sendrecvObject({ worldRank: rank }, right, 1, left, 1);
    const sum = sub.alloc(Int32Array, 1);
    const mine = sub.alloc(Int32Array, 1);
    mine.set([rank]);
    sub.allreduce(mine, sum, SUM);
    // statuses name communicator ranks, not world ranks
    let sources: number[] = [];
    if (sub.rank === 0) {
      for (let i = 1; i < sub.size; i++) {
        const st = { source: -9 };
        const v = sub.recvObject<number>(ANY_SOURCE, 77, st);
        if (v !== st.source) sources.push(-1);
        sources.push(st.source);
      }
      sources = sources.sort();
    } else {
      sub.sendObject(sub.rank, 0, 77);
    }
    const dupOfSub = sub.dup();
    const echo = dupOfSub.bcastObject(sub.rank === 0 ? `root is world ${rank}` : null, 0);
    out.sub = { size: sub.size, rank: sub.rank, fromLeft: got, sum: sum.toArray()[0], sources, echo };
  }
  return out;
}
