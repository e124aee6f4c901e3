// Issue 14: rank 0 sends a `bytes`-byte buffer (a pattern of its index) and, with 'object', a
// 10 MB object; rank 1 receives and checks every byte. Each rank returns its memlock high-water mark.
import { init } from '@tsmpi/mpi';

const world = init();
const bytes = Number(process.argv[2] ?? 1 << 20);
const withObject = process.argv[3] === 'object';
const OBJECT_BYTES = 10_000_000;
const out: Record<string, unknown> = {};
const pattern = (i: number): number => (i * 31 + (i >>> 16)) & 0xff;
if (world.rank === 0) {
  const b = world.alloc(Uint8Array, bytes);
  const src = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) src[i] = pattern(i);
  b.set(src);
  world.send(b, 1, 1);
  if (withObject) world.sendObject({ text: 'x'.repeat(OBJECT_BYTES), tail: 42 }, 1, 2);
} else if (world.rank === 1) {
  const b = world.alloc(Uint8Array, bytes);
  world.recv(b, 0, 1);
  const got = b.toArray();
  let bad = 0;
  for (let i = 0; i < bytes; i++) if (got[i] !== pattern(i)) bad++;
  out.badBytes = bad;
  if (withObject) {
    const o = world.recvObject(0, 2) as { text: string; tail: number };
    out.object = o.text.length === OBJECT_BYTES && /^x*$/.test(o.text) && o.tail === 42;
  }
}
out.highWater = world.space.lockedHighWater;
out.limit = world.space.memlockLimit;

export function main() {
  return out;
}
