// A shared counter on rank 0, taken by every rank with one-sided fetchAndOp (MPI_Fetch_and_op).
// Run:  npx tsmpi run -n 4 --nodes 2 examples/rma-counter.ts [tickets=25]     (any -n works)
//
// Rank 0 exposes one 64-bit integer in a window. Every rank takes `tickets` tickets from it
// inside a lockAll epoch: each fetchAndOp(SUM, 1) is one of the adapter's 8-byte fetch-and-add
// atomics, executed at rank 0's memory without rank 0 doing anything. The tickets every rank got
// are gathered on rank 0, which checks that each number 0 … size·tickets − 1 was handed out once.
import { SUM, init } from '@tsmpi/mpi';

const world = init();
const { rank, size } = world;
const tickets = Number(process.argv[2] ?? 25);
if (!Number.isSafeInteger(tickets) || tickets < 1) throw new Error(`tickets must be a positive integer, got ${process.argv[2]}`);

const win = world.winAllocate(BigInt64Array, rank === 0 ? 1 : 0);
const one = world.alloc(BigInt64Array, 1);
one.set([1n]);
const ticket = world.alloc(BigInt64Array, 1);
const mine: number[] = [];

const t0 = world.wtime();
win.lockAll();
for (let i = 0; i < tickets; i++) {
  win.fetchAndOp(one, ticket, 0, 0, SUM);
  mine.push(Number(ticket.toArray()[0]));
}
win.unlockAll();
const elapsed = (world.wtime() - t0) * 1e6; // µs

const all = world.gatherObject({ mine, elapsed }, 0);
world.barrier();
if (rank === 0) {
  const got = all!.flatMap((x) => x.mine).sort((a, b) => a - b);
  const everyOnce = got.length === size * tickets && got.every((v, i) => v === i);
  const counter = Number(win.buffer!.toArray()[0]);
  console.log(`counter = ${counter} after ${size} ranks × ${tickets} fetchAndOp: ${everyOnce ? 'every ticket handed out once' : 'TICKETS LOST OR DUPLICATED'}`);
  // rank 0's own tickets are local memory operations; the others' cross the adapter
  for (let r = 1; r < size; r++) console.log(`rank ${r}: ${(all![r]!.elapsed / tickets).toFixed(2)} µs of virtual time per fetchAndOp`);
  if (!everyOnce || counter !== size * tickets) process.exitCode = 1;
}
win.free();
