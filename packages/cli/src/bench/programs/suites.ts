/**
 * The four suites as rank code, OSU's loops with every delivery verified.
 *
 *   latency   ping-pong: rank 0 sends, rank 1 receives and sends back; half the round trip
 *   bw        rank 0 posts a window of isends, rank 1 a window of irecvs; a 4-byte ack closes it
 *   bibw      both ranks post a window of irecvs and a window of isends at once
 *   allreduce MAX over Uint8 elements (verifiable exactly, no overflow), every rank checks the result
 *
 * Each size: a barrier, `warmup` untimed iterations, `iterations` timed ones (OSU's skip/iterations).
 * The receiver of a window receives into slices of one allocation (OSU reuses a single r_buf, whose
 * bytes each message overwrites; slices let every message be checked). Slices start on their own
 * page with a free page between them: slices sharing a page would make the registration cache merge
 * their regions into ever larger unions, a cost OSU's single r_buf never pays.
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
  /** The rank's counters when the timed iterations began (unset if none ran). */
  timedFrom?: RegistrationCounters;
}

/** The timed part begins: note the counters, then read the clock (stats() costs no virtual time). */
function startTiming(comm: BenchComm, counters: () => RegistrationCounters, tally: Tally): number {
  tally.timedFrom = counters();
  return comm.wtime();
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

/** Distance between window slices: the size rounded up to whole pages, plus one guard page. */
export function sliceStride(size: number, pageSize: number): number {
  return Math.ceil(size / pageSize) * pageSize + pageSize;
}

/** `window` slices of `size` bytes, each starting `sliceStride` after the previous, page-aligned. */
function slicesOf(buf: BenchBuffer, size: number, window: number, pageSize: number): BenchBuffer[] {
  const stride = sliceStride(size, pageSize);
  const first = (pageSize - (buf.addr % pageSize)) % pageSize;
  return Array.from({ length: window }, (_, w) => buf.subarray(first + w * stride, first + w * stride + size));
}

/** Bytes a window's receive buffer needs: the slices and the alignment slack before the first. */
export function windowBytes(size: number, window: number, pageSize: number): number {
  return window === 1 ? size : sliceStride(size, pageSize) * window + pageSize;
}

/** Runs every size of the job on this rank; returns this rank's results, one per size. */
export function runJob(env: SuiteEnv, spec: JobSpec): RankSizeResult[] {
  const { comm } = env;
  if (comm.size !== 2) throw new RangeError(`the bench suites run on exactly 2 ranks, this job has ${comm.size}`);
  const maxSize = Math.max(...spec.steps.map((s) => s.size));
  const table = new PatternTable(Math.max(maxSize, 4));
  const pageSize = comm.space.pageSize;
  const recvBytes = Math.max(...spec.steps.map((s) => windowBytes(s.size, s.window, pageSize)));
  const bufs: Buffers = {
    // bw: rank 0 receives only the 4-byte ack, rank 1 sends only the ack.
    sends: new BufferSet(comm, spec.pattern, spec.suite === 'bw' && comm.rank === 1 ? 4 : maxSize),
    recvs: new BufferSet(comm, spec.pattern, spec.suite === 'bw' && comm.rank === 0 ? 4 : recvBytes),
  };
  const results: RankSizeResult[] = [];
  for (const step of spec.steps) {
    comm.barrier();
    const before = env.counters();
    const wall0 = now();
    const tally: Tally = { messages: 0, stale: 0, staleBytes: 0 };
    const moved0 = bufs.sends.pagesMoved + bufs.recvs.pagesMoved;
    const elapsedUs = SUITE_LOOPS[spec.suite](env, step, bufs, table, tally);
    const pagesMigrated = bufs.sends.pagesMoved + bufs.recvs.pagesMoved - moved0;
    const wallMs = now() - wall0;
    const after = env.counters();
    const delta = subtractCounters(after, before);
    const { timedFrom, ...delivered } = tally;
    results.push({
      rank: comm.rank, size: step.size, iterations: step.iterations, warmup: step.warmup, window: step.window,
      elapsedUs, ...delivered, ...delta, timed: subtractCounters(after, timedFrom ?? after), pagesMigrated, wallMs,
    });
    if (spec.progressFile && comm.rank === 0) appendFileSync(spec.progressFile, '.');
  }
  bufs.sends.dispose();
  bufs.recvs.dispose();
  return results;
}

/** Each rank's buffers for the whole job: sends (s_buf) and receives (r_buf, window slices). */
interface Buffers {
  sends: BufferSet;
  recvs: BufferSet;
}

type Loop = (env: SuiteEnv, step: SizeStep, bufs: Buffers, table: PatternTable, tally: Tally) => number;

const latency: Loop = ({ comm, counters }, step, { sends, recvs }, table, tally) => {
  const { size, iterations, warmup } = step;
  const me = comm.rank;
  const peer = 1 - me;
  let t0 = comm.wtime();
  for (let i = 0; i < warmup + iterations; i++) {
    if (i === warmup) t0 = startTiming(comm, counters, tally);
    const sbuf = sends.next(i, size);
    const rbuf = recvs.next(i, size);
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
  return (comm.wtime() - t0) * 1e6;
};

/** Rank 0 sends a window from its s_buf; rank 1 receives into window slices of its r_buf. */
const bw: Loop = ({ comm, counters }, step, { sends, recvs }, table, tally) => {
  const { size, iterations, warmup, window } = step;
  const me = comm.rank;
  const peer = 1 - me;
  // The ack lives in rank 0's receive set (4 bytes) and in rank 1's send set.
  let t0 = comm.wtime();
  for (let i = 0; i < warmup + iterations; i++) {
    if (i === warmup) t0 = startTiming(comm, counters, tally);
    const reqs: BenchRequest[] = [];
    if (me === 0) {
      const sbuf = sends.next(i, size);
      const ack = recvs.next(i, 4);
      sbuf.set(table.pattern(0, size, i));
      for (let w = 0; w < window; w++) reqs.push(comm.isend(sbuf, peer, TAG_DATA));
      waitAll(reqs);
      comm.recv(ack, peer, TAG_ACK);
      verify(tally, ack, table.pattern(1, 4, i));
      tally.messages--; // the ack is checked, but only data messages are counted
    } else {
      const rbuf = recvs.next(i, windowBytes(size, window, comm.space.pageSize));
      const ack = sends.next(i, 4);
      const slices = slicesOf(rbuf, size, window, comm.space.pageSize);
      for (const s of slices) reqs.push(comm.irecv(s, peer, TAG_DATA));
      waitAll(reqs);
      const expected = table.pattern(0, size, i);
      for (const s of slices) verify(tally, s, expected);
      ack.set(table.pattern(1, 4, i));
      comm.send(ack, peer, TAG_ACK);
    }
  }
  return (comm.wtime() - t0) * 1e6;
};

const bibw: Loop = ({ comm, counters }, step, { sends, recvs }, table, tally) => {
  const { size, iterations, warmup, window } = step;
  const me = comm.rank;
  const peer = 1 - me;
  let t0 = comm.wtime();
  for (let i = 0; i < warmup + iterations; i++) {
    if (i === warmup) t0 = startTiming(comm, counters, tally);
    const sbuf = sends.next(i, size);
    const rbuf = recvs.next(i, windowBytes(size, window, comm.space.pageSize));
    sbuf.set(table.pattern(me, size, i));
    const slices = slicesOf(rbuf, size, window, comm.space.pageSize);
    const reqs: BenchRequest[] = slices.map((s) => comm.irecv(s, peer, TAG_DATA));
    for (let w = 0; w < window; w++) reqs.push(comm.isend(sbuf, peer, TAG_DATA));
    waitAll(reqs);
    const expected = table.pattern(peer, size, i);
    for (const s of slices) verify(tally, s, expected);
  }
  return (comm.wtime() - t0) * 1e6;
};

const allreduce: Loop = ({ comm, counters, max }, step, { sends, recvs }, table, tally) => {
  const { size, iterations, warmup } = step;
  let t0 = comm.wtime();
  for (let i = 0; i < warmup + iterations; i++) {
    if (i === warmup) t0 = startTiming(comm, counters, tally);
    const sbuf = sends.next(i, size);
    const rbuf = recvs.next(i, size);
    sbuf.set(table.pattern(comm.rank, size, i));
    comm.allreduce(sbuf, rbuf, max);
    const inputs = Array.from({ length: comm.size }, (_, r) => table.pattern(r, size, i));
    verify(tally, rbuf, maxOf(inputs));
  }
  return (comm.wtime() - t0) * 1e6;
};

const SUITE_LOOPS: Record<JobSpec['suite'], Loop> = { latency, bw, bibw, allreduce };
