// Run: npx tsmpi run -n 2 --fabric pinning --rcache none examples/stale-registration.ts      (stale bytes)
//      npx tsmpi run -n 2 --fabric pinning --rcache notifier examples/stale-registration.ts  (clean)
//      npx tsmpi run -n 2 --fabric odp --rcache none examples/stale-registration.ts          (clean)
//
// The registration-cache bug from the seeds, from an ordinary program: rank 0 sends a large buffer
// (rendezvous: the receiver RDMA-reads it through rank 0's registration), frees it, mallocs a new one
// — which lands at the same virtual address on different page frames — fills it, and sends again.
// A cache that is never told about the free hands out the old registration, whose pinned frame list
// still holds the previous round's bytes: rank 1 receives stale data, and counts it.
import { init } from '@tsmpi/mpi';

const world = init();
if (world.size !== 2) throw new Error(`run with -n 2 (got ${world.size})`);
const rounds = 4;
const bytes = 256 * 1024; // above the eager threshold and the allocator's mmap threshold (128 KiB)

export function main() {
  if (world.rank === 0) {
    const addrs: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const buf = world.alloc(Uint8Array, bytes);
      addrs.push(buf.addr);
      buf.fill(round + 1);
      world.send(buf, 1, round);
      buf.free(); // munmap: the frames go back to the node (unless a registration still pins them)
    }
    const sameAddress = addrs.every((a) => a === addrs[0]);
    const s = world.stats();
    console.log(`rank 0: sent ${rounds} rounds of ${bytes} bytes; every round's buffer at the same address: ${sameAddress}`);
    console.log(
      `rank 0: send-side rcache ${JSON.stringify({ hits: (s.rcache['hitsFast'] ?? 0) + (s.rcache['hitsSlow'] ?? 0), misses: s.rcache['misses'], invalidations: s.rcache['invalidations'] })}` +
        ` (hits on a freed buffer's registration are the stale ones)`,
    );
    return { sameAddress };
  }
  const buf = world.alloc(Uint8Array, bytes);
  let staleBytes = 0;
  const staleRounds: number[] = [];
  for (let round = 0; round < rounds; round++) {
    world.recv(buf, 0, round);
    const got = buf.toArray();
    let stale = 0;
    for (let i = 0; i < got.length; i++) if (got[i] !== round + 1) stale++;
    if (stale > 0) staleRounds.push(round);
    staleBytes += stale;
    console.log(`rank 1: round ${round}: expected every byte = ${round + 1}, got byte[0] = ${got[0]}; stale bytes: ${stale}`);
  }
  const s = world.stats();
  console.log(
    staleBytes > 0
      ? `rank 1: STALE DATA — ${staleBytes} of ${rounds * bytes} bytes came from freed memory (rounds ${staleRounds.join(', ')})`
      : `rank 1: all ${rounds * bytes} bytes correct`,
  );
  console.log(`rank 1: receive-side rcache ${JSON.stringify({ hits: (s.rcache['hitsFast'] ?? 0) + (s.rcache['hitsSlow'] ?? 0), misses: s.rcache['misses'], invalidations: s.rcache['invalidations'] })}`);
  return { staleBytes, staleRounds, totalBytes: rounds * bytes };
}
