// A program whose outcome depends on the order in which shared timing resources are served:
// ANY_SOURCE receives from every rank at once, rendezvous messages that contend for one node's
// port, allreduce and alltoall, a polling loop (test) and iprobe. Virtual time must not depend on
// thread timing, so the test injects real delays (busy loops of random length, from a seed given in
// argv) and expects identical clocks, counters and bytes in every run.
//   argv: seed rounds maxDelayUs delaySeed
// `seed` shapes the program (message sizes, who talks to whom); `delaySeed` only the real delays.
import { ANY_SOURCE, ANY_TAG, SUM, init } from '@tsmpi/mpi';

const world = init();
const { rank, size } = world;
const seed = Number(process.argv[2] ?? 1);
const rounds = Number(process.argv[3] ?? 3);
const maxDelayUs = Number(process.argv[4] ?? 0);
const delaySeed = Number(process.argv[5] ?? 7);

/** xorshift32: the same stream for the same seed on every run. */
function xorshift(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    return state / 2 ** 32;
  };
}
const shape = xorshift(seed * 2654435761 + 12345); // identical on every rank: they agree on the plan
const delay = xorshift(delaySeed * 2246822519 + rank * 40503 + 1);
function stall(): void {
  if (maxDelayUs <= 0) return;
  const until = performance.now() + (delay() * maxDelayUs) / 1000;
  while (performance.now() < until);
}

export function main() {
  const order: number[] = [];
  const sizes = [8, 4096, 20_000, 70_000];
  let checksum = 0;
  for (let round = 0; round < rounds; round++) {
    // everyone sends one message of a planned size to rank 0, which takes them in arrival order
    const plan = Array.from({ length: size }, () => sizes[Math.floor(shape() * sizes.length)]!);
    const n = plan[rank]!;
    const out = world.alloc(Uint8Array, n);
    out.set(new Uint8Array(n).fill((rank * 7 + round) & 0xff));
    stall();
    const sreq = rank === 0 ? undefined : world.isend(out, 0, round);
    if (rank === 0) {
      const into = world.alloc(Uint8Array, 70_000);
      for (let k = 1; k < size; k++) {
        stall();
        const st = world.recv(into, ANY_SOURCE, ANY_TAG);
        order.push(st.source);
        checksum += into.toArray()[0]! * st.byteCount;
      }
      into.free();
    }
    sreq?.wait();
    out.free();

    // all-to-all and allreduce: every port on every node busy at once
    stall();
    const a = world.alloc(Float64Array, size * 1024);
    a.set(Float64Array.from({ length: size * 1024 }, (_, i) => rank + i));
    const b = world.alloc(Float64Array, size * 1024);
    world.alltoall(a, b);
    const s = world.alloc(Float64Array, 2048);
    s.set(new Float64Array(2048).fill(rank + round));
    const t = world.alloc(Float64Array, 2048);
    stall();
    world.allreduce(s, t, SUM);
    checksum += b.toArray()[5]! + t.toArray()[7]!;
    a.free(); b.free(); s.free(); t.free();

    // a polling loop and a probe: each poll costs virtual time, so the count must not depend on the host
    const peer = rank ^ 1;
    if (peer < size) {
      const m = world.alloc(Int32Array, 4);
      m.set([rank, round, 0, 0]);
      const r = world.alloc(Int32Array, 4);
      const rr = world.irecv(r, peer, 99);
      stall();
      const ss = world.isend(m, peer, 99);
      let polls = 0;
      while (!rr.test()) polls++;
      ss.wait();
      order.push(1000 + polls);
      m.free(); r.free();
    }
    stall();
    world.barrier();
  }
  return { order, checksum, wtime: world.wtime() };
}
