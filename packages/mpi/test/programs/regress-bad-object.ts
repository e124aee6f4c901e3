// Issues 20.4 and 15.2: bytes that are not msgpack (a buffer message, 0xC1 throughout) received
// with irecvObject. The receive is not the one rank 1 waits on when progress finds it (it waits
// on tag 2, sent after); it must fail alone, with a typed error, and the send must complete.
// Rank 1 does the same with a send to itself. Heap chunks are counted to catch a leaked temporary.
import { init, type MpiError } from '@tsmpi/mpi';

const world = init();
const bytes = Number(process.argv[2] ?? 64);
const out: Record<string, unknown> = {};

function badBuffer() {
  const b = world.alloc(Uint8Array, bytes);
  b.set(new Uint8Array(bytes).fill(0xc1));
  return b;
}
function failure(e: unknown) {
  const m = e as MpiError & { source: number; tag: number; messageBytes: number };
  return { name: m.name, code: m.code, source: m.source, tag: m.tag, messageBytes: m.messageBytes, message: m.message };
}

if (world.rank === 0) {
  const b = badBuffer();
  world.send(b, 1, 1);
  world.sendObject('next', 1, 2);
  out.sent = true;
} else if (world.rank === 1) {
  const chunks = world.heap.stats.inUseChunks;
  const broken = world.irecvObject(0, 1);
  out.next = world.recvObject(0, 2);
  try {
    broken.wait();
    out.error = 'none';
  } catch (e) {
    out.error = failure(e);
  }
  const b = badBuffer();
  const s = world.isend(b, 1, 3);
  try {
    world.recvObject(1, 3);
    out.selfError = 'none';
  } catch (e) {
    out.selfError = failure(e);
  }
  s.wait();
  b.free();
  out.leakedChunks = world.heap.stats.inUseChunks - chunks;
}

export function main() {
  return out;
}
