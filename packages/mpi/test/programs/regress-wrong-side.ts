// Issue 15.4: an error belongs to the side whose buffer is bad.
//   recv  rank 1 receives a valid rendezvous message into memory it does not have: its receive fails
//         with InvalidBuffer; rank 0's send fails with an error that names rank 1's receive buffer
//   send  rank 0 sends from memory it does not have: the send throws InvalidBuffer when posted, and
//         nothing reaches rank 1
// Then both ranks exchange one more message (the pair still works).
import { init, type MpiError } from '@tsmpi/mpi';

const world = init();
const mode = process.argv[2] ?? 'recv';
const bytes = Number(process.argv[3] ?? 65536);
const out: Record<string, unknown> = {};
const UNMAPPED = 0x10; // below the first page any mapping can use

function failure(e: unknown) {
  const m = e as MpiError;
  return { name: m.name, code: m.code, message: m.message };
}
function attempt(f: () => unknown): unknown {
  try {
    f();
    return 'ok';
  } catch (e) {
    return failure(e);
  }
}

if (world.rank === 0) {
  if (mode === 'recv') {
    const b = world.alloc(Uint8Array, bytes);
    b.set(new Uint8Array(bytes).fill(5));
    out.send = attempt(() => world.send(b, 1, 1));
  } else {
    out.send = attempt(() => world.send(world.wrap(Uint8Array, UNMAPPED, bytes), 1, 1));
  }
  world.sendObject('still here', 1, 2);
} else if (world.rank === 1) {
  if (mode === 'recv') out.recv = attempt(() => world.recv(world.wrap(Uint8Array, UNMAPPED, bytes), 0, 1));
  out.next = world.recvObject(0, 2);
  out.unexpected = world.iprobe(0, 1) !== undefined;
}

export function main() {
  return out;
}
