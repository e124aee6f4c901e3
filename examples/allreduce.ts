// Allreduce with a numerical check.
// Run:  npx tsmpi run -n 4 examples/allreduce.ts [doubles]      (any -n works: 1, 3, 5, 8, ...)
//
// Every rank contributes a vector whose global sum is known in closed form, sums it with
// allreduce, and checks (1) every element against the formula, exactly (the values are
// integers held in doubles, so no rounding is involved), and (2) that a floating-point
// reduction whose result does depend on the evaluation order (one dot product per rank,
// summed) came out bit-identical on every rank. The default 65536 doubles (512 KiB) takes
// the Rabenseifner path; pass a small count (say 16) to see recursive doubling.
import { MAX, SUM, init } from '@tsmpi/mpi';

const world = init();
const { rank, size } = world;
const n = Number(process.argv[2] ?? 65536);

// x_r[i] = (r + 1) * (i mod 1000)  ⇒  Σ_r x_r[i] = size(size+1)/2 * (i mod 1000), exactly.
const x = world.alloc(Float64Array, n);
const local = new Float64Array(n);
for (let i = 0; i < n; i++) local[i] = (rank + 1) * (i % 1000);
x.set(local);
const sum = world.alloc(Float64Array, n);

const t0 = world.wtime();
world.allreduce(x, sum, SUM);
const elapsedUs = (world.wtime() - t0) * 1e6;

const got = sum.toArray();
const triangle = (size * (size + 1)) / 2;
let wrong = 0;
for (let i = 0; i < n; i++) if (got[i] !== triangle * (i % 1000)) wrong++;

// An order-dependent reduction: partial dot products of irrational-looking values.
const dot = world.alloc(Float64Array, 1);
let d = 0;
for (let i = 0; i < 1000; i++) d += Math.sin(rank * 1000 + i) * Math.cos(i);
dot.set([d]);
const dotSum = world.alloc(Float64Array, 1);
world.allreduce(dot, dotSum, SUM);
const bits = Buffer.from(dotSum.toArray().buffer).toString('hex');
const everyonesBits = world.allgatherObject(bits);
const identical = everyonesBits.every((b) => b === bits);

// The slowest rank's virtual time, and the total number of wrong elements.
const worst = world.alloc(Float64Array, 2);
const mine = world.alloc(Float64Array, 2);
mine.set([elapsedUs, wrong]);
world.allreduce(mine, worst, MAX);
const [slowestUs, maxWrong] = worst.toArray();

if (rank === 0) {
  console.log(`allreduce SUM of ${n} doubles on ${size} ranks: ${maxWrong === 0 ? 'every element exact' : `${maxWrong} wrong elements`}`);
  console.log(`order-dependent sum ${dotSum.toArray()[0]} is ${identical ? 'bit-identical on every rank' : 'DIFFERENT across ranks'}`);
  console.log(`virtual time of the allreduce: ${slowestUs.toFixed(1)} µs (slowest rank)`);
}
for (const b of [x, sum, dot, dotSum, worst, mine]) b.free();
if (maxWrong !== 0 || !identical) throw new Error(`allreduce check failed on rank ${rank}`);
