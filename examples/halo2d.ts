// 2-D halo exchange on a Cartesian grid of ranks: heat diffusion with a 5-point stencil.
// Run:  npx tsmpi run -n 4 examples/halo2d.ts [N=256] [steps=100]     (any -n: the grid is computeDims(n, 2))
//       npx tsmpi run -n 6 --compute none examples/halo2d.ts           (virtual time without the program's own work)
//
// The periodic N×N field is split into blocks over a dims[0] × dims[1] grid of ranks
// (cartCreate, periodic both ways). Each block keeps a one-cell halo; every step a rank posts
// irecv/isend with its four neighbours from shift(0, 1) and shift(1, 1) — rows go as they lie in
// memory, columns are packed into buffers first — waits with Request.waitAll, then updates its
// interior. Total heat is conserved by the scheme (checked with allreduce), and each rank's
// virtual time over the steps is split into compute (the stencil and packing loops, measured),
// communication and waiting, gathered and printed by rank 0.
import { Request, SUM, computeDims, init } from '@tsmpi/mpi';

const world = init();
const N = Number(process.argv[2] ?? 256);
const steps = Number(process.argv[3] ?? 100);
const dims = computeDims(world.size, 2);
const grid = world.cartCreate(dims, [true, true])!;
const [px, py] = grid.coords();
const share = (n: number, parts: number, i: number) => Math.floor(n / parts) + (i < n % parts ? 1 : 0);
const rows = share(N, dims[0]!, px!);
const cols = share(N, dims[1]!, py!);
if (rows === 0 || cols === 0) throw new Error(`N=${N} leaves rank ${grid.rank} without cells on a ${dims.join('×')} grid: use N >= ${Math.max(...dims)}`);

// Local field with halo: (rows + 2) × (cols + 2), row-major; cell (i, j) at i * W + j.
const W = cols + 2;
const u = grid.alloc(Float64Array, (rows + 2) * W);
const next = new Float64Array((rows + 2) * W);
{
  const init0 = new Float64Array((rows + 2) * W);
  const firstRow = px! * Math.floor(N / dims[0]!) + Math.min(px!, N % dims[0]!);
  const firstCol = py! * Math.floor(N / dims[1]!) + Math.min(py!, N % dims[1]!);
  for (let i = 1; i <= rows; i++) {
    for (let j = 1; j <= cols; j++) init0[i * W + j] = (firstRow + i - 1 + 2 * (firstCol + j - 1)) % 7;
  }
  u.set(init0);
}
const { source: up, dest: down } = grid.shift(0, 1);
const { source: left, dest: right } = grid.shift(1, 1);
const sendCols = grid.alloc(Float64Array, 2 * rows);
const recvCols = grid.alloc(Float64Array, 2 * rows);
const r = 0.2;

const before = grid.stats(); // its virtualUs and time split, so the split below adds up to the elapsed time
for (let step = 0; step < steps; step++) {
  // pack the edge columns (columns are strided; rows are contiguous)
  const a = u.toArray();
  const packed = new Float64Array(2 * rows);
  for (let i = 1; i <= rows; i++) {
    packed[i - 1] = a[i * W + 1]!;
    packed[rows + i - 1] = a[i * W + cols]!;
  }
  sendCols.set(packed);
  const reqs = [
    grid.irecv(u.subarray(0, W), up, 0), grid.irecv(u.subarray((rows + 1) * W, (rows + 2) * W), down, 1),
    grid.irecv(recvCols.subarray(0, rows), left, 2), grid.irecv(recvCols.subarray(rows, 2 * rows), right, 3),
    grid.isend(u.subarray(rows * W, (rows + 1) * W), down, 0), grid.isend(u.subarray(W, 2 * W), up, 1),
    grid.isend(sendCols.subarray(rows, 2 * rows), right, 2), grid.isend(sendCols.subarray(0, rows), left, 3),
  ];
  Request.waitAll(reqs);
  // unpack the halo columns, then the stencil over the interior
  const f = u.toArray();
  const halo = recvCols.toArray();
  for (let i = 1; i <= rows; i++) {
    f[i * W] = halo[i - 1]!;
    f[i * W + cols + 1] = halo[rows + i - 1]!;
  }
  for (let i = 1; i <= rows; i++) {
    for (let j = 1; j <= cols; j++) {
      const k = i * W + j;
      next[k] = f[k]! + r * (f[k - W]! + f[k + W]! + f[k - 1]! + f[k + 1]! - 4 * f[k]!);
    }
  }
  u.set(next);
}
const after = grid.stats();
const elapsedUs = after.virtualUs - before.virtualUs;
const time = {
  computeUs: after.time.computeUs - before.time.computeUs,
  communicationUs: after.time.communicationUs - before.time.communicationUs,
  waitingUs: after.time.waitingUs - before.time.waitingUs,
};

// Heat is conserved: the sum over the field never changes (every cell starts at (i + 2j) mod 7).
const f = u.toArray();
let local = 0;
for (let i = 1; i <= rows; i++) for (let j = 1; j <= cols; j++) local += f[i * W + j]!;
const heat = grid.alloc(Float64Array, 1);
heat.set([local]);
const total = grid.alloc(Float64Array, 1);
grid.allreduce(heat, total, SUM);
let expected = 0;
for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) expected += (i + 2 * j) % 7;

const all = grid.gatherObject({ rank: grid.rank, coords: [px, py], elapsedUs, ...time }, 0);
if (all) {
  const drift = Math.abs(total.toArray()[0]! - expected) / expected;
  console.log(`${N}×${N} periodic field, ${steps} steps on a ${dims.join(' × ')} grid of ranks; heat drift ${drift.toExponential(1)} ${drift < 1e-9 ? '(conserved)' : '(NOT conserved)'}`);
  console.log('rank  coords   virtual µs   compute   communication   waiting');
  for (const x of all) {
    console.log(`${String(x.rank).padStart(4)}  ${`(${x.coords.join(',')})`.padEnd(7)} ${x.elapsedUs.toFixed(1).padStart(11)} ${x.computeUs.toFixed(1).padStart(9)} ${x.communicationUs.toFixed(1).padStart(15)} ${x.waitingUs.toFixed(1).padStart(9)}`);
  }
  if (drift >= 1e-9) process.exit(1);
}
