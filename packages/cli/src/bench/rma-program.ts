/**
 * The rank program behind `tsmpi bench rma` (2 ranks: rank 0 the origin, rank 1 the target), after
 * OSU's one-sided tests (osu_put_latency, osu_get_latency, osu_put_bw, osu_get_bw, osu_acc_latency,
 * osu_fop_latency, osu_cas_latency): each runs per size under fence or lock synchronisation, and a
 * dynamic-window pattern detaches, frees, mallocs and attaches the target's buffer every iteration.
 * Every access is verified at the rank that can see it; wrong bytes are counted as stale.
 */
import { SUM, init, type Comm, type TypedBuffer, type Win } from '@tsmpi/mpi';
import type { RmaCellResult, RmaSpec, RmaSuite, RmaSync } from './rma-spec.js';


const world = init();
const fill = (i: number, size: number) => (i * 7 + size) & 0xff || 1;

function epochOpen(win: Win, sync: RmaSync): void {
  if (sync === 'fence') win.fence();
  else if (world.rank === 0) win.lock(1, 'exclusive');
}

function epochClose(win: Win, sync: RmaSync): void {
  if (sync === 'fence') win.fence();
  else if (world.rank === 0) win.unlock(1);
}

/** Counts bytes of `buf` that are not `v`. */
function wrong(buf: TypedBuffer, v: number): number {
  let n = 0;
  for (const x of buf.toArray() as Uint8Array) if (x !== v) n++;
  return n;
}

function putGet(comm: Comm, win: Win<Uint8Array>, buffer: TypedBuffer<Uint8Array>, suite: RmaSuite, sync: RmaSync, size: number, iters: number, window: number): RmaCellResult {
  const put = suite.startsWith('put');
  const per = suite.endsWith('bw') ? window : 1;
  // one origin buffer for the whole job, as OSU's: only the dynamic pattern moves memory
  const origin = buffer.subarray(0, size);
  let stale = 0;
  let elapsedUs = 0;
  for (let i = 0; i < iters; i++) {
    const v = fill(i, size);
    if (world.rank === 1 && !put) win.buffer!.fill(v); // the target's data for this round
    if (world.rank === 0 && put) origin.fill(v);
    // only the epoch is timed; with lock, barriers around it order it after the target's data and before the check
    if (sync === 'lock') comm.barrier();
    const t = comm.wtime();
    epochOpen(win, sync);
    if (world.rank === 0) for (let k = 0; k < per; k++) (put ? win.put : win.get).call(win, origin, 1, 0);
    epochClose(win, sync);
    elapsedUs += (comm.wtime() - t) * 1e6;
    if (sync === 'lock') comm.barrier();
    if (put && world.rank === 1) stale += wrong(win.buffer!.subarray(0, size), v);
    if (!put && world.rank === 0) stale += wrong(origin, v);
  }
  return { suite, sync, size, iterations: iters, elapsedUs, staleBytes: stale };
}

function atomicLatency(comm: Comm, suite: RmaSuite, sync: RmaSync, iters: number): RmaCellResult {
  const acc = suite === 'acc_latency';
  const win = acc ? comm.winAllocate(Float64Array, 1) : comm.winAllocate(BigInt64Array, 1);
  const one = acc ? comm.alloc(Float64Array, 1) : comm.alloc(BigInt64Array, 1);
  one.fill(acc ? 1 : 1n);
  const result = comm.alloc(BigInt64Array, 1);
  const compare = comm.alloc(BigInt64Array, 1);
  let stale = 0;
  comm.barrier();
  const t0 = comm.wtime();
  for (let i = 0; i < iters; i++) {
    epochOpen(win, sync);
    if (world.rank === 0) {
      if (acc) win.accumulate(one, 1, 0, SUM);
      else if (suite === 'fop_latency') {
        (win as Win<BigInt64Array>).fetchAndOp(one as TypedBuffer<BigInt64Array>, result, 1, 0, SUM);
        if (result.toArray()[0] !== BigInt(i)) stale += 8;
      } else {
        compare.set([BigInt(i)]);
        const next = comm.alloc(BigInt64Array, 1);
        next.set([BigInt(i + 1)]);
        (win as Win<BigInt64Array>).compareAndSwap(next, compare, result, 1, 0);
        next.free();
        if (result.toArray()[0] !== BigInt(i)) stale += 8;
      }
    }
    epochClose(win, sync);
  }
  const elapsedUs = (comm.wtime() - t0) * 1e6;
  comm.barrier();
  if (world.rank === 1) {
    const v = win.buffer!.toArray()[0]!;
    if (Number(v) !== iters) stale += 8;
  }
  win.free();
  return { suite, sync, size: 8, iterations: iters, elapsedUs, staleBytes: stale };
}

/** The target withdraws and re-exposes freshly allocated memory every iteration (same address, new frames). */
function dynamic(comm: Comm, size: number, iters: number): RmaCellResult {
  const win = comm.winCreateDynamic();
  let buf = comm.alloc(Uint8Array, size);
  if (world.rank === 1) win.attach(buf);
  const origin = comm.alloc(Uint8Array, size);
  let stale = 0;
  comm.barrier();
  const t0 = comm.wtime();
  for (let i = 0; i < iters; i++) {
    const v = fill(i, size);
    if (world.rank === 1 && i > 0) {
      win.detach(buf);
      buf.free();
      buf = comm.alloc(Uint8Array, size);
      buf.fill(0);
      win.attach(buf);
    }
    const addr = comm.allgatherObject(buf.addr)[1]!;
    win.fence(); // the origin learns the target's regions
    if (world.rank === 0) {
      origin.fill(v);
      win.put(origin, 1, addr);
    }
    win.fence();
    if (world.rank === 1) stale += wrong(buf, v);
  }
  const elapsedUs = (comm.wtime() - t0) * 1e6;
  if (world.rank === 1) win.detach(buf);
  win.free();
  buf.free();
  origin.free();
  return { suite: 'dynamic', sync: 'fence', size, iterations: iters, elapsedUs, staleBytes: stale };
}

export function main(): RmaCellResult[] {
  const spec = JSON.parse(process.argv[2] ?? '{}') as RmaSpec;
  const out: RmaCellResult[] = [];
  const maxSize = Math.max(...spec.sizes);
  const win = world.winAllocate(Uint8Array, maxSize);
  const origin = world.alloc(Uint8Array, maxSize);
  for (const suite of spec.suites) {
    if (suite === 'dynamic') {
      for (const size of spec.sizes) out.push(dynamic(world, size, spec.iterations));
      continue;
    }
    for (const sync of spec.syncs) {
      if (suite === 'acc_latency' || suite === 'fop_latency' || suite === 'cas_latency') {
        out.push(atomicLatency(world, suite, sync, spec.iterations));
        continue;
      }
      for (const size of spec.sizes) out.push(putGet(world, win, origin, suite, sync, size, spec.iterations, spec.window));
    }
  }
  win.free();
  origin.free();
  return out;
}
