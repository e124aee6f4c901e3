// One-sided scenarios in the spirit of MPICH test/mpi/rma, chosen by argv[2]; each returns what it saw.
import { init, NO_OP, REPLACE, SUM, MAX, type Win } from '@tsmpi/mpi';

const world = init();
const scenario = process.argv[2] ?? 'putfence1';
const { rank, size } = world;
const N = 16;

function putfence1() {
  // each rank writes its pattern into the next rank's window; a fence completes it
  const win = world.winAllocate(Int32Array, N);
  const src = world.alloc(Int32Array, N);
  src.set(Array.from({ length: N }, (_, i) => rank * 100 + i));
  win.fence();
  win.put(src, (rank + 1) % size, 0);
  win.fence();
  const left = (rank + size - 1) % size;
  const got = win.buffer!.toArray();
  win.free();
  return { ok: got.every((v, i) => v === left * 100 + i) };
}

function getfence1() {
  const win = world.winAllocate(Float64Array, N);
  win.buffer!.set(Array.from({ length: N }, (_, i) => rank + i / 10));
  const dst = world.alloc(Float64Array, N);
  win.fence();
  const right = (rank + 1) % size;
  win.get(dst, right, 0);
  win.fence();
  const got = dst.toArray();
  win.free();
  return { ok: got.every((v, i) => v === right + i / 10) };
}

function accfence1() {
  // every rank adds into every other rank's window, doubles and 32-bit ints (the agent path)
  const d = world.winAllocate(Float64Array, N);
  const n = world.winAllocate(Int32Array, N);
  const src = world.alloc(Float64Array, N);
  const isrc = world.alloc(Int32Array, N);
  src.set(Array.from({ length: N }, (_, i) => i + rank / 2));
  isrc.set(Array.from({ length: N }, (_, i) => i * (rank + 1)));
  d.fence();
  n.fence();
  for (let t = 0; t < size; t++) {
    d.accumulate(src, t, 0, SUM);
    n.accumulate(isrc, t, 0, SUM);
  }
  d.fence();
  n.fence();
  const ranks = Array.from({ length: size }, (_, r) => r);
  const dOk = d.buffer!.toArray().every((v, i) => v === ranks.reduce((s, r) => s + i + r / 2, 0));
  const nOk = n.buffer!.toArray().every((v, i) => v === ranks.reduce((s, r) => s + i * (r + 1), 0));
  d.free();
  n.free();
  return { ok: dOk && nOk };
}

function fetchandadd(iters = 10) {
  // a shared counter on rank 0: fetchAndOp SUM through the fabric's fetch-and-add, under lockAll
  const win = world.winAllocate(BigInt64Array, 1);
  const one = world.alloc(BigInt64Array, 1);
  one.set([1n]);
  const old = world.alloc(BigInt64Array, 1);
  win.fence();
  win.lockAll();
  const seen: number[] = [];
  for (let i = 0; i < iters; i++) {
    win.fetchAndOp(one, old, 0, 0, SUM);
    seen.push(Number(old.toArray()[0]));
  }
  win.unlockAll();
  const all = world.allgatherObject(seen).flat().sort((a, b) => a - b);
  world.barrier();
  const final = rank === 0 ? Number(win.buffer!.toArray()[0]) : -1;
  win.free();
  return { distinct: all.every((v, i) => v === i), final, count: all.length };
}

function compareAndSwap() {
  // everyone tries 0 → rank+1 on rank 0: exactly one wins, and everyone saw either 0 or the winner
  const win = world.winAllocate(BigInt64Array, 1);
  const mine = world.alloc(BigInt64Array, 1);
  const zero = world.alloc(BigInt64Array, 1);
  const res = world.alloc(BigInt64Array, 1);
  mine.set([BigInt(rank + 1)]);
  win.lock(0, 'shared');
  win.compareAndSwap(mine, zero, res, 0, 0);
  win.unlock(0);
  const saw = Number(res.toArray()[0]);
  const all = world.allgatherObject(saw);
  world.barrier();
  const value = Number(win.buffer!.toArray()[0]);
  const final = world.allreduceObject(rank === 0 ? value : 0, SUM);
  win.free();
  return { winners: all.filter((s) => s === 0).length, final, consistent: all.every((s) => s === 0 || s === final) };
}

function lockcontention(iters = 5) {
  // a read-modify-write of a double on rank 0 under an exclusive lock: no increment is lost
  const win = world.winAllocate(Float64Array, 1);
  const tmp = world.alloc(Float64Array, 1);
  world.barrier();
  for (let i = 0; i < iters; i++) {
    win.lock(0, 'exclusive');
    win.get(tmp, 0, 0);
    win.flush(0);
    tmp.set([tmp.toArray()[0]! + 1]);
    win.put(tmp, 0, 0);
    win.unlock(0);
  }
  world.barrier();
  const final = rank === 0 ? win.buffer!.toArray()[0]! : -1;
  win.free();
  return { final };
}

function winDynamicAcc() {
  // a dynamic window: rank 0 attaches a counter; everyone accumulates into it at its address
  const win = world.winCreateDynamic();
  const buf = world.alloc(BigInt64Array, 4);
  buf.fill(0n);
  if (rank === 0) win.attach(buf);
  const addr = world.allgatherObject(buf.addr)[0]!;
  win.fence();
  const add = world.alloc(BigInt64Array, 4);
  add.set([1n, 2n, 3n, BigInt(rank)]);
  win.accumulate(add, 0, addr, SUM);
  const maxed = world.alloc(BigInt64Array, 1);
  maxed.set([BigInt(rank * 10)]);
  win.fence();
  win.accumulate(maxed, 0, addr + 24, MAX);
  win.fence();
  const got = rank === 0 ? Array.from(buf.toArray(), Number) : [];
  if (rank === 0) win.detach(buf);
  win.free();
  return { got };
}

function epochErrors() {
  const win = world.winAllocate(Int32Array, N);
  const src = world.alloc(Int32Array, N + 1);
  const errs: string[] = [];
  const attempt = (f: () => void) => errs.push(outcome(f));
  attempt(() => win.put(src.subarray(0, 1), (rank + 1) % size, 0)); // no epoch
  win.fence();
  attempt(() => win.put(src, (rank + 1) % size, 0)); // N+1 elements into N
  attempt(() => win.get(src.subarray(0, 4), (rank + 1) % size, N - 2));
  attempt(() => win.unlock(0));
  win.fence();
  win.free();
  const dyn = world.winCreateDynamic();
  dyn.fence();
  attempt(() => dyn.put(src.subarray(0, 1), (rank + 1) % size, src.addr));
  dyn.fence();
  dyn.free();
  return { errs };
}

function pscw() {
  // post/start/complete/wait around a ring: my left neighbour writes into me, I write into my right
  const win = world.winAllocate(Int32Array, N);
  const src = world.alloc(Int32Array, N);
  const left = (rank + size - 1) % size;
  const right = (rank + 1) % size;
  let ok = true;
  for (let round = 0; round < 3; round++) {
    src.set(Array.from({ length: N }, (_, i) => round * 1000 + rank * 10 + i));
    win.post([left]);
    win.start([right]);
    win.put(src, right, 0);
    win.complete();
    win.wait();
    ok &&= win.buffer!.toArray().every((v, i) => v === round * 1000 + left * 10 + i);
  }
  win.free();
  return { ok };
}

/** Rank 1 detaches its region; rank 0 still puts into it: before a fence a typed adapter error, after one RmaAttachError. */
function detached() {
  const win = world.winCreateDynamic();
  const buf = world.alloc(Uint8Array, 64 * 1024);
  buf.fill(7);
  if (rank === 1) win.attach(buf);
  const addr = world.allgatherObject(buf.addr)[1]!;
  win.fence();
  if (rank === 1) win.detach(buf);
  world.barrier();
  const src = world.alloc(Uint8Array, 1024);
  src.fill(9);
  const errs: string[] = [];
  const attempt = (f: () => void) => errs.push(outcome(f));
  if (rank === 0) attempt(() => win.put(src, 1, addr)); // posted with the key rank 0 still knows
  attempt(() => win.fence()); // completes it: the adapter's verdict is raised here
  if (rank === 0) attempt(() => win.put(src, 1, addr)); // the fence told rank 0 the region is gone
  win.fence();
  const untouched = rank === 1 ? buf.toArray().every((v) => v === 7) : true;
  win.free();
  return { errs, untouched };
}

/** The stale case: rank 1 attaches, detaches, frees, mallocs and attaches again every round; rank 0 puts. */
function dynamicStale(rounds = 4, bytes = 256 * 1024) {
  const win = world.winCreateDynamic();
  let buf = world.alloc(Uint8Array, bytes);
  const first = buf.addr;
  let sameAddress = true;
  let stale = 0;
  const staleRounds: number[] = [];
  const src = world.alloc(Uint8Array, bytes);
  if (rank === 1) win.attach(buf);
  for (let r = 0; r < rounds; r++) {
    const addr = world.allgatherObject(buf.addr)[1]!;
    win.fence(); // origins learn rank 1's regions here
    if (rank === 0) {
      src.fill(r + 1);
      win.put(src, 1, addr);
    }
    win.fence();
    if (rank === 1) {
      const bad = buf.toArray().filter((v) => v !== r + 1).length;
      if (bad > 0) staleRounds.push(r);
      stale += bad;
      win.detach(buf);
      buf.free();
      buf = world.alloc(Uint8Array, bytes);
      sameAddress &&= buf.addr === first;
      buf.fill(0);
      win.attach(buf);
    }
  }
  win.fence();
  if (rank === 1) win.detach(buf);
  win.free();
  return { stale, staleRounds, sameAddress };
}

const scenarios: Record<string, () => unknown> = {
  putfence1, getfence1, accfence1, fetchandadd, compare_and_swap: compareAndSwap, lockcontention,
  win_dynamic_acc: winDynamicAcc, errors: epochErrors, detached, pscw, dynamic_stale: dynamicStale,
  noop: () => [NO_OP.name, REPLACE.name],
};

export function main() {
  const f = scenarios[scenario];
  if (f === undefined) throw new Error(`unknown scenario ${scenario}`);
  return f();
}
export type { Win };

/** 'none', or the name and code of the error `f` raised: what the epoch and attach checks report. */
function outcome(f: () => void): string {
  try {
    f();
    return 'none';
  } catch (e) {
    return `${(e as Error).name}:${(e as { code?: string }).code}`;
  }
}
