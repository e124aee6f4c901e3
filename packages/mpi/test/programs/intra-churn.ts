// Issue 7: the sender frees its buffer and allocates it again (same address, new frames) between
// rendezvous messages; a single-copy receiver (CMA, or XPMEM through its attachment cache) must
// deliver the new bytes every time, never the old frames.
import { init, setResult } from '@tsmpi/mpi';

const world = init();
const n = Number(process.argv[2] ?? 256 * 1024);
const rounds = 6;
if (world.rank === 0) {
  const addrs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const b = world.alloc(Uint8Array, n);
    addrs.push(b.addr);
    const a = new Uint8Array(n);
    for (let i = 0; i < n; i++) a[i] = (i * 7 + r * 13) & 0xff;
    b.set(a);
    world.send(b, 1, r);
    b.free();
  }
  setResult({ sameAddress: addrs.every((x) => x === addrs[0]) });
} else if (world.rank === 1) {
  const b = world.alloc(Uint8Array, n);
  let bad = 0;
  for (let r = 0; r < rounds; r++) {
    world.recv(b, 0, r);
    const got = b.toArray();
    for (let i = 0; i < n; i++) if (got[i] !== ((i * 7 + r * 13) & 0xff)) bad++;
  }
  setResult({ bad });
}
