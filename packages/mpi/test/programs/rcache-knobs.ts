// Rank 0 sends large buffers to rank 1 in rounds; between rounds the memory moves under the cache in
// one of two ways the runtime's knobs are for:
//   migrate: the kernel migrates the send buffer's pages (no library call announces it)
//   rotate:  two buffers alternate, so a cache limited to one region must evict
// Rank 1 counts the bytes that do not match the round's value.
import { init } from '@tsmpi/mpi';

const world = init();
const mode = process.argv[2] ?? 'migrate';
const rounds = 4;
const bytes = 256 * 1024;

export function main() {
  if (world.rank === 0) {
    const a = world.alloc(Uint8Array, bytes);
    const gap = world.alloc(Uint8Array, bytes); // keeps a and b apart, so their regions never touch
    const b = world.alloc(Uint8Array, bytes);
    gap.free();
    for (let r = 0; r < rounds; r++) {
      const buf = mode === 'rotate' && r % 2 === 1 ? b : a;
      if (mode === 'migrate' && r > 0) world.space.migrate(buf.addr, bytes);
      buf.fill(r + 1);
      world.send(buf, 1, r);
    }
    return world.stats().rcache;
  }
  const buf = world.alloc(Uint8Array, bytes);
  let stale = 0;
  for (let r = 0; r < rounds; r++) {
    world.recv(buf, 0, r);
    for (const x of buf.toArray()) if (x !== r + 1) stale++;
  }
  return { stale };
}
