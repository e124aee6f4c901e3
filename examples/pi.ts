// Parallel π by the midpoint rule, summed with reduce.
// Run:  npx tsmpi run -n 4 examples/pi.ts [intervals=10000000]      (any -n works)
//
// π = ∫₀¹ 4 / (1 + x²) dx. Rank r sums the midpoints r, r + size, r + 2·size, ... of
// `intervals` equal strips, and reduce(SUM) adds the partial sums on rank 0, which prints the
// error and the time. The loop is the program's own work: under `tsmpi run` (--compute
// measured, the default) its wall time lands on the virtual clock, so wtime() shows it and so
// does the compute / communication / waiting split; with --compute none the clock only
// counts the modelled communication.
import { SUM, init } from '@tsmpi/mpi';

const world = init();
const { rank, size } = world;
const intervals = Number(process.argv[2] ?? 10_000_000);
if (!Number.isSafeInteger(intervals) || intervals < 1) throw new Error(`intervals must be a positive integer, got ${process.argv[2]}`);

const before = world.stats(); // its virtualUs and time split, so the split below adds up to the elapsed time
const h = 1 / intervals;
let sum = 0;
for (let i = rank; i < intervals; i += size) {
  const x = h * (i + 0.5);
  sum += 4 / (1 + x * x);
}
const partial = world.alloc(Float64Array, 1);
partial.set([sum * h]);
const pi = rank === 0 ? world.alloc(Float64Array, 1) : null;
world.reduce(partial, pi, SUM, 0);

const after = world.stats();
const elapsedUs = after.virtualUs - before.virtualUs;
const [computeUs, communicationUs, waitingUs] = (['computeUs', 'communicationUs', 'waitingUs'] as const).map((k) => after.time[k] - before.time[k]);
if (rank === 0) {
  const value = pi!.toArray()[0]!;
  console.log(`pi ≈ ${value.toFixed(15)}, error ${Math.abs(value - Math.PI).toExponential(2)}, ${intervals} intervals on ${size} ranks`);
  console.log(`rank 0: ${elapsedUs.toFixed(2)} µs virtual (compute ${computeUs.toFixed(2)}, communication ${communicationUs.toFixed(2)}, waiting ${waitingUs.toFixed(2)})`);
}
