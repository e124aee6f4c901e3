// 2-D heat equation, explicit 5-point stencil, rows split across ranks, halo exchange with sendrecv.
// Run:  npx tsmpi run -n 4 examples/heat.ts [N=128] [steps=200]
//
// The grid is N×N and periodic. Each rank owns a band of rows plus one halo row above and
// below, kept in its simulated memory; before every step it swaps edge rows with its
// neighbours (sendrecv, a ring, so rank 0's upper neighbour is the last rank). The initial
// condition 1 + sin(2πi/N)·sin(2πj/N) is an eigenvector of the discrete scheme, so after
// T steps the exact discrete solution is 1 + g^T · sin·sin with
// g = 1 - 4r(sin²(π/N) + sin²(π/N)). The program checks the maximum error against it and
// that total heat (N² — the sine term sums to zero) is conserved, both with allreduce.
import { MAX, SUM, init } from '@tsmpi/mpi';

const world = init();
const { rank, size } = world;
const N = Number(process.argv[2] ?? 128);
const steps = Number(process.argv[3] ?? 200);
const r = 0.2; // α·dt/h², stable below 0.25
if (N < size) throw new Error(`N=${N} gives some of the ${size} ranks no rows: use N >= ${size}`);

// Rows [first, first + rows) of the global grid belong to this rank (balanced split).
const first = rank * Math.floor(N / size) + Math.min(rank, N % size);
const rows = Math.floor(N / size) + (rank < N % size ? 1 : 0);
const up = (rank - 1 + size) % size;
const down = (rank + 1) % size;

// Local field: (rows + 2) × N, halo rows 0 and rows + 1.
const u = world.alloc(Float64Array, (rows + 2) * N);
const row = (k: number) => u.subarray(k * N, (k + 1) * N);
const mode = (i: number, j: number) => Math.sin((2 * Math.PI * i) / N) * Math.sin((2 * Math.PI * j) / N);
{
  const init0 = new Float64Array((rows + 2) * N);
  for (let k = 1; k <= rows; k++) for (let j = 0; j < N; j++) init0[k * N + j] = 1 + mode(first + k - 1, j);
  u.set(init0);
}

const UP = 1, DOWN = 2;
let next = new Float64Array((rows + 2) * N);
for (let t = 0; t < steps; t++) {
  // My top row goes up and my lower halo comes from below; then the other direction.
  world.sendrecv(row(1), up, UP, row(rows + 1), down, UP);
  world.sendrecv(row(rows), down, DOWN, row(0), up, DOWN);
  const cur = u.toArray();
  for (let k = 1; k <= rows; k++) {
    const c = k * N;
    for (let j = 0; j < N; j++) {
      const w = j === 0 ? N - 1 : j - 1;
      const e = j === N - 1 ? 0 : j + 1;
      next[c + j] = cur[c + j] + r * (cur[c - N + j] + cur[c + N + j] + cur[c + w] + cur[c + e] - 4 * cur[c + j]);
    }
  }
  u.set(next.subarray(N, (rows + 1) * N), N);
  next = cur;
}

// Compare with the exact discrete solution and measure total heat.
const s = Math.sin(Math.PI / N) ** 2;
const g = Math.pow(1 - 4 * r * (s + s), steps);
const final = u.toArray();
let err = 0;
let heat = 0;
for (let k = 1; k <= rows; k++) {
  for (let j = 0; j < N; j++) {
    const v = final[k * N + j];
    heat += v;
    err = Math.max(err, Math.abs(v - (1 + g * mode(first + k - 1, j))));
  }
}
const mine = world.alloc(Float64Array, 1);
const all = world.alloc(Float64Array, 1);
mine.set([heat]);
world.allreduce(mine, all, SUM);
const total = all.toArray()[0];
mine.set([err]);
world.allreduce(mine, all, MAX);
const maxErr = all.toArray()[0];

const heatDrift = Math.abs(total - N * N) / (N * N);
const ok = maxErr < 1e-10 && heatDrift < 1e-12;
if (rank === 0) {
  console.log(`heat ${N}x${N}, ${steps} steps on ${size} ranks: amplitude ${g.toExponential(4)} (from 1)`);
  console.log(`max error vs exact discrete solution ${maxErr.toExponential(2)}; total heat ${total} (drift ${heatDrift.toExponential(2)})`);
  console.log(`virtual time ${(world.wtime() * 1e3).toFixed(3)} ms; ${ok ? 'ok' : 'FAILED'}`);
}
for (const b of [u, mine, all]) b.free();
if (!ok) throw new Error(`heat check failed on rank ${rank}: error ${maxErr}, heat drift ${heatDrift}`);
