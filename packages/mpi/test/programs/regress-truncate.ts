// Issue 20.1: rank 0 sends `bytes` (1 MiB by default); rank 1 receives it into a buffer 8 bytes
// short and, with 'after', then receives a second message (the stream behind the truncated one is
// intact). Without 'after' rank 1 finishes right after its TruncationError: the send must still end.
import { TruncationError, init } from '@tsmpi/mpi';

const world = init();
const bytes = Number(process.argv[2] ?? 1 << 20);
const after = process.argv[3] === 'after';
const out: Record<string, unknown> = {};
if (world.rank === 0) {
  const b = world.alloc(Uint8Array, bytes);
  b.set(new Uint8Array(bytes).fill(7));
  world.send(b, 1, 1);
  if (after) {
    const next = world.alloc(Int32Array, 1);
    next.set([77]);
    world.send(next, 1, 2);
  }
  out.sent = true;
} else if (world.rank === 1) {
  const short = world.alloc(Uint8Array, bytes - 8);
  try {
    world.recv(short, 0, 1);
    out.error = 'none';
  } catch (e) {
    if (!(e instanceof TruncationError)) throw e;
    out.error = { code: e.code, messageBytes: e.messageBytes, bufferBytes: e.bufferBytes };
  }
  if (after) {
    const next = world.alloc(Int32Array, 1);
    world.recv(next, 0, 2);
    out.after = next.toArray()[0];
  }
}

export function main() {
  return out;
}
