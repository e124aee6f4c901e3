/**
 * The four suites as rank code, OSU's loops with every delivery verified.
 *
 *   latency   ping-pong: rank 0 sends, rank 1 receives and sends back; half the round trip
 *   bw        rank 0 posts a window of isends, rank 1 a window of irecvs; a 4-byte ack closes it
 *   bibw      both ranks post a window of irecvs and a window of isends at once
 *   allreduce MAX over Uint8 elements (verifiable exactly, no overflow), every rank checks the result
 *
 * Each size: a barrier, `warmup` untimed iterations, `iterations` timed ones (OSU's skip/iterations).
 * The receiver of a window receives into consecutive slices of one allocation (OSU reuses a single
 * r_buf, whose bytes each message overwrites; slices let every message be checked).
 */
import { appendFileSync } from 'node:fs';
import type { JobSpec, RankSizeResult, SizeStep } from '../job.js';
import type { BenchBuffer, BenchComm, BenchRequest, RegistrationCounters } from './comm.js';
import { subtractCounters } from './comm.js';
import { BufferSet } from './buffers.js';
import { PatternTable, check, maxOf } from './verify.js';

const TAG_DATA = 1;
const TAG_ACK = 2;

export interface SuiteEnv {
  comm: BenchComm;
  /** Cumulative registration counters of this rank (from comm.stats()). */
  counters(): RegistrationCounters;
  /** The MAX reduction op of @tsmpi/mpi, for allreduce. */
  max: unknown;
}

interface Tally {
  messages: number;
  stale: number;
  staleBytes: number;
}

function verify(t: Tally, buf: BenchBuffer, expected: Uint8Array): void {
  const c = check(buf.toArray(), expected);
  t.messages++;
  if (c.stale) {
    t.stale++;
    t.staleBytes += c.wrongBytes;
  }
}

function waitAll(reqs: BenchRequest[]): void {
  for (const r of reqs) r.wait();
}

const now = (): number => performance.now();

/** Runs every size of the job on this rank; returns this rank's results, one per size. */
export function runJob(env: SuiteEnv, spec: JobSpec): RankSizeResult[] {
  const { comm } = env;
  if (comm.size !== 2) throw new RangeError(`the bench suites run on exactly 2 ranks, this job has ${comm.size}`);
  const maxSize = Math.max(...spec.steps.map((s) => s.size));
  const table = new PatternTable(Math.max(maxSize, 4));
  const results: RankSizeResult[] = [];
  for (const step of spec.steps) {
    comm.barrier();
    const before = env.counters();
    const wall0 = now();
    const tally: Tally = { messages: 0, stale: 0, staleBytes: 0 };
    let elapsedUs = 0;
    let pagesMigrated = 0;
    const run = SUITE_LOOPS[spec.suite];
    ({ elapsedUs, pagesMigrated } = run(env, spec, step, table, tally));
    const wallMs = now() - wall0;
    const delta = subtractCounters(env.counters(), before);
    results.push({
      rank: comm.rank, size: step.size, iterations: step.iterations, warmup: step.warmup, window: step.window,
      elapsedUs, ...tally, ...delta, pagesMigrated, wallMs,
    });
    if (spec.progressFile && comm.rank === 0) appendFileSync(spec.progressFile, '.');
  }
  return results;
}

type Loop = (env: SuiteEnv, spec: JobSpec, step: SizeStep, table: PatternTable, tally: Tally) => { elapsedUs: number; pagesMigrated: number };

const latency: Loop = ({ comm }, spec, step, table, tally) => {
  const { size, iterations, warmup } = step;
  const me = comm.rank;
  const peer = 1 - me;
  // OSU's s_buf and r_buf: two buffers per rank, each moved by the pattern.
  const sends = new BufferSet(comm, spec.pattern, size);
  const recvs = new BufferSet(comm, spec.pattern, size);
  let t0 = comm.wtime();
  for (let i = 0; i < warmup + iterations; i++) {
    if (i === warmup) t0 = comm.wtime();
    const sbuf = sends.next(i);
    const rbuf = recvs.next(i);
    if (me === 0) {
      sbuf.set(table.pattern(0, size, i));
      comm.send(sbuf, peer, TAG_DATA);
      comm.recv(rbuf, peer, TAG_DATA);
      verify(tally, rbuf, table.pattern(1, size, i));
    } else {
      comm.recv(rbuf, peer, TAG_DATA);
      verify(tally, rbuf, table.pattern(0, size, i));
      sbuf.set(table.pattern(1, size, i));
      comm.send(sbuf, peer, TAG_DATA);
    }
  }
  const elapsedUs = (comm.wtime() - t0) * 1e6;
  sends.dispose();
  recvs.dispose();
  return { elapsedUs, pagesMigrated: sends.pagesMoved + recvs.pagesMoved };
};

const bw: Loop = ({ comm }, spec, step, table, tally) => {
  const { size, iterations, warmup, window } = step;
  const me = comm.rank;
  const peer = 1 - me;
  // Rank 0 sends from one buffer; rank 1 receives into `window` slices of one allocation.
  const bufs = new BufferSet(comm, spec.pattern, me === 0 ? size : size * window);
  const ack = comm.alloc(Uint8Array, 4);
  let t0 = comm.wtime();
  for (let i = 0; i < warmup + iterations; i++) {
    if (i === warmup) t0 = comm.wtime();
    const buf = bufs.next(i);
    const reqs: BenchRequest[] = [];
    if (me === 0) {
      buf.set(table.pattern(0, size, i));
      for (let w = 0; w < window; w++) reqs.push(comm.isend(buf, peer, TAG_DATA));
      waitAll(reqs);
      comm.recv(ack, peer, TAG_ACK);
      verify(tally, ack, table.pattern(1, 4, i));
      tally.messages--; // the ack is checked, but only data messages are counted
    } else {
      const slices = Array.from({ length: window }, (_, w) => buf.subarray(w * size, (w + 1) * size));
      for (const s of slices) reqs.push(comm.irecv(s, peer, TAG_DATA));
      waitAll(reqs);
      const expected = table.pattern(0, size, i);
      for (const s of slices) verify(tally, s, expected);
      ack.set(table.pattern(1, 4, i));
      comm.send(ack, peer, TAG_ACK);
    }
  }
  const elapsedUs = (comm.wtime() - t0) * 1e6;
  ack.free();
  bufs.dispose();
  return { elapsedUs, pagesMigrated: bufs.pagesMoved };
};

const bibw: Loop = ({ comm }, spec, step, table, tally) => {
  const { size, iterations, warmup, window } = step;
  const me = comm.rank;
  const peer = 1 - me;
  const sends = new BufferSet(comm, spec.pattern, size);
  const recvs = new BufferSet(comm, spec.pattern, size * window);
  let t0 = comm.wtime();
  for (let i = 0; i < warmup + iterations; i++) {
    if (i === warmup) t0 = comm.wtime();
    const sbuf = sends.next(i);
    const rbuf = recvs.next(i);
    sbuf.set(table.pattern(me, size, i));
    const slices = Array.from({ length: window }, (_, w) => rbuf.subarray(w * size, (w + 1) * size));
    const reqs: BenchRequest[] = slices.map((s) => comm.irecv(s, peer, TAG_DATA));
    for (let w = 0; w < window; w++) reqs.push(comm.isend(sbuf, peer, TAG_DATA));
    waitAll(reqs);
    const expected = table.pattern(peer, size, i);
    for (const s of slices) verify(tally, s, expected);
  }
  const elapsedUs = (comm.wtime() - t0) * 1e6;
  sends.dispose();
  recvs.dispose();
  return { elapsedUs, pagesMigrated: sends.pagesMoved + recvs.pagesMoved };
};

const allreduce: Loop = ({ comm, max }, spec, step, table, tally) => {
  const { size, iterations, warmup } = step;
  const sends = new BufferSet(comm, spec.pattern, size);
  const recvs = new BufferSet(comm, spec.pattern, size);
  let t0 = comm.wtime();
  for (let i = 0; i < warmup + iterations; i++) {
    if (i === warmup) t0 = comm.wtime();
    const sbuf = sends.next(i);
    const rbuf = recvs.next(i);
    sbuf.set(table.pattern(comm.rank, size, i));
    comm.allreduce(sbuf, rbuf, max);
    const inputs = Array.from({ length: comm.size }, (_, r) => table.pattern(r, size, i));
    verify(tally, rbuf, maxOf(inputs));
  }
  const elapsedUs = (comm.wtime() - t0) * 1e6;
  sends.dispose();
  recvs.dispose();
  return { elapsedUs, pagesMigrated: sends.pagesMoved + recvs.pagesMoved };
};

const SUITE_LOOPS: Record<JobSpec['suite'], Loop> = { latency, bw, bibw, allreduce };
