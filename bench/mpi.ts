/**
 * Real (wall-clock) speed of the @tsmpi/mpi runtime, against Node's own ways of moving bytes between
 * threads, measured in the same run:
 *
 *   npx tsx --conditions=source bench/mpi.ts          (or `npm run build` first, then npx tsx bench/mpi.ts)
 *   npx tsx --conditions=source bench/mpi.ts --quick  (fewer iterations)
 *
 * 1. one-way latency of an 8-byte message between 2 ranks (blocking send/recv ping-pong), vs
 *    MessagePort.postMessage ping-pong of an 8-byte Uint8Array between two worker threads;
 * 2. bandwidth of 1 MiB messages between 2 ranks (rendezvous: RTS, RDMA read through the registration
 *    cache, FIN; a window of 8 in flight, as osu_bw), vs TypedArray.set between two SharedArrayBuffers
 *    (the copy a single-copy transport cannot beat) and postMessage of 1 MiB;
 * 3. 64 ranks on this machine's cores completing an allreduce (no livelock), wall time.
 * Targets: latency at least 10x better than postMessage; 1 MiB bandwidth at least 70% of the
 * TypedArray.set copy bandwidth.
 *
 * This file is also the rank program of parts 1 and 2 (it checks inRank()).
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Request, inRank, init, runJob, setResult } from '@tsmpi/mpi';

const quick = process.argv.includes('--quick');
const LAT_ITERS = quick ? 5_000 : 50_000;
const BW_ITERS = quick ? 20 : 100;
const WINDOW = 8;
const MIB = 1 << 20;

interface RankFigures {
  latencyUs: number;
  bandwidthMBps: number;
  virtualLatencyUs: number;
  virtualBandwidthMBps: number;
}

if (inRank()) {
  const world = init();
  const peer = 1 - world.rank;
  const small = world.alloc(Uint8Array, 8);
  const big = Array.from({ length: WINDOW }, () => world.alloc(Uint8Array, MIB));
  const ack = world.alloc(Uint8Array, 1);
  const pingPong = (iters: number) => {
    for (let i = 0; i < iters; i++) {
      if (world.rank === 0) {
        world.send(small, peer, 1);
        world.recv(small, peer, 1);
      } else {
        world.recv(small, peer, 1);
        world.send(small, peer, 1);
      }
    }
  };
  const stream = (iters: number) => {
    for (let i = 0; i < iters; i++) {
      if (world.rank === 0) {
        Request.waitAll(big.map((b) => world.isend(b, peer, 2)));
        world.recv(ack, peer, 3);
      } else {
        Request.waitAll(big.map((b) => world.irecv(b, peer, 2)));
        world.send(ack, peer, 3);
      }
    }
  };
  pingPong(Math.max(2_000, LAT_ITERS / 2)); // warm-up: JIT tiers, first registrations
  let v0 = world.wtime();
  let t0 = performance.now();
  pingPong(LAT_ITERS);
  const latencyUs = ((performance.now() - t0) * 1000) / (2 * LAT_ITERS);
  const virtualLatencyUs = ((world.wtime() - v0) * 1e6) / (2 * LAT_ITERS);
  stream(3);
  v0 = world.wtime();
  t0 = performance.now();
  stream(BW_ITERS);
  const seconds = (performance.now() - t0) / 1000;
  const bandwidthMBps = (BW_ITERS * WINDOW * MIB) / seconds / 1e6;
  const virtualBandwidthMBps = (BW_ITERS * WINDOW * MIB) / (world.wtime() - v0) / 1e6;
  setResult({ latencyUs, bandwidthMBps, virtualLatencyUs, virtualBandwidthMBps } satisfies RankFigures);
} else {
  await driver();
}

/** postMessage ping-pong between two workers: one-way µs for `bytes`-byte Uint8Arrays. */
function postMessagePingPong(bytes: number, iters: number): Promise<number> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { port, first, iters, bytes } = workerData;
    const msg = new Uint8Array(bytes);
    let n = 0;
    let t0 = 0;
    port.on('message', (m) => {
      if (first) {
        if (++n === 100) t0 = performance.now();
        if (n === 100 + iters) { parentPort.postMessage((performance.now() - t0) * 1000 / (2 * iters)); port.close(); return; }
      } else if (++n === 100 + iters) { port.postMessage(m); port.close(); return; }
      port.postMessage(m);
    });
    if (first) port.postMessage(msg);
  `;
  const { port1, port2 } = new MessageChannel();
  return new Promise((resolve, reject) => {
    const b = new Worker(code, { eval: true, workerData: { port: port2, first: false, iters, bytes }, transferList: [port2] });
    const a = new Worker(code, { eval: true, workerData: { port: port1, first: true, iters, bytes }, transferList: [port1] });
    a.once('message', (us: number) => {
      void a.terminate();
      void b.terminate();
      resolve(us);
    });
    a.once('error', reject);
    b.once('error', reject);
  });
}

/** TypedArray.set between two SharedArrayBuffers: MB/s for `bytes`-byte copies. */
function sabCopyMBps(bytes: number, iters: number): number {
  const src = new Uint8Array(new SharedArrayBuffer(bytes));
  const dst = new Uint8Array(new SharedArrayBuffer(bytes));
  for (let i = 0; i < bytes; i++) src[i] = i & 0xff;
  for (let i = 0; i < 20; i++) dst.set(src);
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) dst.set(src);
  return (bytes * iters) / ((performance.now() - t0) / 1000) / 1e6;
}

async function driver(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  console.log(`# bench/mpi.ts — wall-clock speed of the runtime (${quick ? 'quick' : 'full'}), Node ${process.versions.node}`);

  // 8 MiB in flight plus the bounce buffers: above the 8 MiB default memlock, as HPC sites configure
  const job = await runJob({ np: 2, program: self, captureOutput: true, memlock: Infinity });
  if (job.exitCode !== 0) throw new Error(`ping-pong job failed: ${job.error?.message}\n${job.ranks.map((r) => r.output).join('')}`);
  const f = job.ranks[0]!.value as RankFigures;

  const pmLatencyUs = await postMessagePingPong(8, LAT_ITERS);
  const pmMiBUs = await postMessagePingPong(MIB, BW_ITERS * 4);
  const pmBandwidthMBps = MIB / pmMiBUs;
  const copyMBps = sabCopyMBps(MIB, 2000);

  const t0 = performance.now();
  const allreduce = await runJob({
    np: 64,
    program: new URL('../examples/allreduce.ts', import.meta.url),
    args: ['4096'],
    captureOutput: true,
  });
  const allreduceMs = performance.now() - t0;

  const rows: [string, string, string][] = [
    ['8 B one-way latency, tsmpi (blocking send/recv)', `${f.latencyUs.toFixed(2)} us`, `modeled ${f.virtualLatencyUs.toFixed(2)} us`],
    ['8 B one-way latency, postMessage between workers', `${pmLatencyUs.toFixed(2)} us`, ''],
    ['  ratio postMessage / tsmpi (target >= 10)', `${(pmLatencyUs / f.latencyUs).toFixed(1)}x`, ''],
    ['1 MiB bandwidth, tsmpi (rendezvous, window 8)', `${f.bandwidthMBps.toFixed(0)} MB/s`, `modeled ${f.virtualBandwidthMBps.toFixed(0)} MB/s`],
    ['1 MiB TypedArray.set between SABs', `${copyMBps.toFixed(0)} MB/s`, ''],
    ['1 MiB postMessage (structured clone) ping-pong', `${pmBandwidthMBps.toFixed(0)} MB/s`, ''],
    ['  tsmpi / copy (target >= 70%)', `${((100 * f.bandwidthMBps) / copyMBps).toFixed(0)}%`, ''],
    [
      '64 ranks: allreduce of 4096 doubles, whole job',
      `${allreduce.exitCode === 0 ? 'ok' : `FAILED (${allreduce.error?.message})`} in ${(allreduceMs / 1000).toFixed(1)} s wall`,
      `modeled ${allreduce.totals.maxVirtualUs.toFixed(1)} us`,
    ],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`);
  console.log(
    JSON.stringify({
      latencyUs: f.latencyUs,
      postMessageLatencyUs: pmLatencyUs,
      bandwidthMBps: f.bandwidthMBps,
      copyMBps,
      postMessageMBps: pmBandwidthMBps,
      allreduce64: { exitCode: allreduce.exitCode, wallMs: allreduceMs, virtualUs: allreduce.totals.maxVirtualUs },
    }),
  );
}
