/**
 * Real (wall-clock) speed of the @tsmpi/mpi runtime against what the hardware and Node can do between
 * threads, measured in the same run (issue 11):
 *
 *   npx tsx --conditions=source bench/mpi.ts                 a table: each figure, its target, met / not met
 *   npx tsx --conditions=source bench/mpi.ts --json FILE     the same figures as one JSON object in FILE
 *   npx tsx --conditions=source bench/mpi.ts --quick         fewer iterations (a smoke run, not for the README)
 *   npx tsx --conditions=source bench/mpi.ts --latency --quick   the 8 B latency alone: each round's figures,
 *                         min / median / max of postMessage ÷ tsmpi, and the rank's sleeps per message
 *   ... --reps N (default 5) --timing exact|fast (default exact, as tsmpi runs) --np N (default 2; ranks
 *                         2.. idle in a barrier, so a ping-pong shares the cores with sleeping ranks)
 *
 * Each figure is the best of N interleaved repetitions (one round measures every baseline and the
 * runtime in turn, so a change in the machine's load hits all of them alike):
 *   postMessageOneWayUs   MessagePort.postMessage ping-pong of an 8-byte Uint8Array between two workers
 *   sabSpinOneWayUs       two workers handing a counter through a SharedArrayBuffer, spinning on
 *                         Atomics.load: the floor for a one-way hand-off between two threads
 *   oneWay8BUs            tsmpi 8 B ping-pong, 2 ranks on one node (blocking send/recv)
 * Figures from the modules of bench/mpi/: every `export async function measure…(opts: { quick: boolean })`
 * there runs once (each takes its own best of ≥ 5) and its keys join the object — bandwidth-parts.ts:
 * copyGBps, copy16MiBGBps, bw1MiBGBps, bw16MiBGBps; rcache-hit.ts: rcacheHitNs; scale.ts:
 * ranks1024WallMs, bytesPerRank. A figure no module gave is printed as "not measured" and left out
 * of the JSON.
 *
 * This file is also the rank program of the tsmpi figures (it checks inRank()); bench/sync.ts runs it
 * for the 8 B latency and the 1 MiB bandwidth (window 8) under exact and fast timing.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Request, inRank, init, runJob, setResult, type TimingKind, type TypedBuffer } from '@tsmpi/mpi';
import { osuWindow, pingPong as roundTrips } from './mpi/osu-loops.js';

// a rank's argv is runJob's args alone (no script path), so flags are searched in the whole argv
const argv = process.argv;
const quick = argv.includes('--quick');
const option = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const LAT_ITERS = quick ? 3_000 : 20_000;
const BW_ITERS = quick ? 5 : 20;
const MIB = 1 << 20;
const WINDOW_1M = 8;

/** What one rank-program run measures (rank 0's view). */
export interface RankFigures {
  latencyUs: number;
  /** Times rank 0 slept (on its doorbell or the horizon) per message of the timed ping-pong. */
  sleepsPerMessage: number;
  bandwidthMBps: number;
  virtualLatencyUs: number;
  virtualBandwidthMBps: number;
}

if (inRank()) {
  const world = init();
  const small = world.alloc(Uint8Array, 8);
  const ack = world.alloc(Uint8Array, 1);
  const pingPong = (iters: number) => roundTrips(world, small, iters);
  const stream = (bufs: TypedBuffer<Uint8Array>[], iters: number) => {
    for (let i = 0; i < iters; i++) osuWindow(world, bufs, ack);
  };
  /** Bytes per second of `iters` windows of `bufs`, after a warm-up (first registrations). */
  const bandwidth = (bufs: TypedBuffer<Uint8Array>[], iters: number) => {
    stream(bufs, 2);
    const v0 = world.wtime();
    const t0 = performance.now();
    stream(bufs, iters);
    const bytes = iters * bufs.length * bufs[0]!.byteLength;
    return { wall: bytes / ((performance.now() - t0) / 1000), virtual: bytes / (world.wtime() - v0) };
  };
  const playing = world.rank < 2;
  if (playing) pingPong(Math.max(2_000, LAT_ITERS / 2)); // warm-up: JIT tiers, first registrations
  const v0 = world.wtime();
  const sleeps0 = world.stats().messages.blockingWaits;
  const t0 = performance.now();
  if (playing) pingPong(LAT_ITERS);
  const latencyUs = ((performance.now() - t0) * 1000) / (2 * LAT_ITERS);
  const sleepsPerMessage = (world.stats().messages.blockingWaits - sleeps0) / (2 * LAT_ITERS);
  const virtualLatencyUs = ((world.wtime() - v0) * 1e6) / (2 * LAT_ITERS);
  // bench/mpi.ts itself takes bandwidth from bench/mpi/bandwidth-parts.ts; bench/sync.ts wants it here
  const bw1 = argv.includes('--latency-only') || !playing ? { wall: NaN, virtual: NaN }
    : bandwidth(Array.from({ length: WINDOW_1M }, () => world.alloc(Uint8Array, MIB)), BW_ITERS);
  if (world.size > 2) world.barrier();
  setResult({
    latencyUs, virtualLatencyUs, sleepsPerMessage,
    bandwidthMBps: bw1.wall / 1e6, virtualBandwidthMBps: bw1.virtual / 1e6,
  } satisfies RankFigures);
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
  return twoWorkers(code, { port: port1, first: true, iters, bytes }, { port: port2, first: false, iters, bytes }, [port1], [port2]);
}

/**
 * Two workers hand a counter back and forth through one SharedArrayBuffer, each spinning on
 * Atomics.load until it sees its turn: one-way µs. No runtime can hand a message between two
 * threads faster than this.
 */
function sabSpinPingPong(iters: number): Promise<number> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { sab, first, iters } = workerData;
    const cell = new Int32Array(sab);
    const total = 1000 + iters;
    let t0 = 0;
    for (let i = 1; i <= total; i++) {
      if (first && i === 1001) t0 = performance.now();
      if (first) {
        Atomics.store(cell, 0, i);
        while (Atomics.load(cell, 1) !== i);
      } else {
        while (Atomics.load(cell, 0) !== i);
        Atomics.store(cell, 1, i);
      }
    }
    parentPort.postMessage(first ? (performance.now() - t0) * 1000 / (2 * iters) : -1);
  `;
  const sab = new SharedArrayBuffer(8);
  return twoWorkers(code, { sab, first: true, iters }, { sab, first: false, iters }, [], []);
}

/** Starts worker b, then a; resolves with a's one message. */
function twoWorkers(code: string, a: object, b: object, ta: MessagePort[], tb: MessagePort[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const wb = new Worker(code, { eval: true, workerData: b, transferList: tb });
    const wa = new Worker(code, { eval: true, workerData: a, transferList: ta });
    wa.once('message', (us: number) => {
      void wa.terminate();
      void wb.terminate();
      resolve(us);
    });
    wa.once('error', reject);
    wb.once('error', reject);
  });
}

/** The figures of bench/mpi/*.ts (P1's and P3's modules): every exported measure…() function, run once. */
async function moduleFigures(): Promise<Record<string, unknown>> {
  const dir = new URL('./mpi/', import.meta.url);
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.ts')).sort();
  } catch {
    return {};
  }
  const out: Record<string, unknown> = {};
  for (const f of files) {
    const mod = (await import(new URL(f, dir).href)) as Record<string, unknown>;
    for (const [name, fn] of Object.entries(mod)) {
      if (!name.startsWith('measure') || typeof fn !== 'function') continue;
      process.stderr.write(`# bench/mpi/${f}: ${name}\n`);
      Object.assign(out, await (fn as (o: { quick: boolean }) => Promise<Record<string, unknown>>)({ quick }));
    }
  }
  return out;
}

async function driver(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const jsonFile = option('--json');
  const reps = Number(option('--reps') ?? 5);
  const timing = (option('--timing') ?? 'exact') as TimingKind;
  const np = Number(option('--np') ?? 2);
  const latencyOnly = argv.includes('--latency');
  if (!Number.isInteger(np) || np < 2) throw new Error(`--np: an integer ≥ 2, got ${option('--np')}`);
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`--reps: a positive integer, got ${option('--reps')}`);
  if (timing !== 'exact' && timing !== 'fast') throw new Error(`--timing: exact or fast, got ${timing}`);
  const load0 = loadavg()[0]!;
  const runs: Array<Record<string, number>> = [];
  for (let r = 0; r < reps; r++) {
    process.stderr.write(`# round ${r + 1}/${reps}\n`);
    const job = await runJob({ np, program: self, args: ['--latency-only', ...(quick ? ['--quick'] : [])], captureOutput: true, memlock: Infinity, timing });
    if (job.exitCode !== 0) throw new Error(`tsmpi job failed: ${job.error?.message}\n${job.ranks.map((x) => x.output).join('')}`);
    const f = job.ranks[0]!.value as RankFigures;
    runs.push({
      postMessageOneWayUs: await postMessagePingPong(8, LAT_ITERS),
      sabSpinOneWayUs: await sabSpinPingPong(LAT_ITERS * 10),
      oneWay8BUs: f.latencyUs,
      virtualOneWay8BUs: f.virtualLatencyUs,
      sleepsPerMessage: f.sleepsPerMessage,
    });
  }
  if (latencyOnly) {
    printLatencyRounds(runs, { reps, np, timing, loadavg: [load0, loadavg()[0]!] });
    return;
  }
  const best = (k: string, higher: boolean) => (higher ? Math.max : Math.min)(...runs.map((x) => x[k]!));
  const figures: Record<string, unknown> = {
    postMessageOneWayUs: best('postMessageOneWayUs', false),
    sabSpinOneWayUs: best('sabSpinOneWayUs', false),
    oneWay8BUs: best('oneWay8BUs', false),
    ...(await moduleFigures()),
  };
  const load1 = loadavg()[0]!;
  const meta = {
    when: new Date().toISOString(), node: process.versions.node, cpus: cpus().length, loadavg: [load0, load1],
    reps, quick, timing, virtualOneWay8BUs: runs[0]!.virtualOneWay8BUs,
    // every repetition, so the spread (min/median/max) can be read from the file
    runs,
  };
  if (jsonFile) writeFileSync(jsonFile, JSON.stringify({ ...figures, meta }, null, 2) + '\n');
  printTable(figures, meta);
}

/** --latency: every round, then min / median / max of the ratio (each round's baseline against its own tsmpi run). */
function printLatencyRounds(runs: Array<Record<string, number>>, meta: { reps: number; np: number; timing: string; loadavg: number[] }): void {
  console.log(`# bench/mpi.ts --latency — ${meta.reps} interleaved rounds${quick ? ' (quick)' : ''}, ${meta.np} ranks, timing ${meta.timing}, ` +
    `Node ${process.versions.node}, ${cpus().length} CPUs, load average ${meta.loadavg.map((x) => x.toFixed(2)).join(' → ')}`);
  console.log('round  postMessage µs  SAB spin µs  tsmpi µs  postMessage/tsmpi  sleeps/msg');
  runs.forEach((r, i) => console.log(`${String(i + 1).padStart(5)}  ${r.postMessageOneWayUs!.toFixed(2).padStart(14)}  ` +
    `${r.sabSpinOneWayUs!.toFixed(3).padStart(11)}  ${r.oneWay8BUs!.toFixed(2).padStart(8)}  ` +
    `${(r.postMessageOneWayUs! / r.oneWay8BUs!).toFixed(2).padStart(17)}  ${r.sleepsPerMessage!.toFixed(3).padStart(10)}`));
  const spread = (xs: number[], d: number) => {
    const s = [...xs].sort((a, b) => a - b);
    return `${s[0]!.toFixed(d)} / ${s[Math.floor(s.length / 2)]!.toFixed(d)} / ${s[s.length - 1]!.toFixed(d)}`;
  };
  console.log(`tsmpi one-way µs, min / median / max       ${spread(runs.map((r) => r.oneWay8BUs!), 2)}`);
  console.log(`postMessage ÷ tsmpi, min / median / max    ${spread(runs.map((r) => r.postMessageOneWayUs! / r.oneWay8BUs!), 2)}  (target ≥ 10)`);
}

function printTable(f: Record<string, unknown>, meta: { reps: number; loadavg: number[]; timing: string; quick: boolean }): void {
  const num = (k: string) => (typeof f[k] === 'number' ? (f[k] as number) : undefined);
  const hit = f.rcacheHitNs as Record<string, number> | undefined;
  const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined ? a / b : undefined);
  // [figure, value, target, met]: met undefined → not measured
  const rows: Array<[string, string, string, boolean | undefined]> = [];
  const fmt = (x: number | undefined, d: number, unit: string) => (x === undefined ? 'not measured' : `${x.toFixed(d)} ${unit}`);
  rows.push(['8 B one-way, postMessage between workers', fmt(num('postMessageOneWayUs'), 2, 'us'), 'baseline', true]);
  rows.push(['8 B one-way, SAB spin between workers', fmt(num('sabSpinOneWayUs'), 3, 'us'), 'floor', true]);
  rows.push(['8 B one-way, tsmpi', fmt(num('oneWay8BUs'), 2, 'us'), '', true]);
  const lat = ratio(num('postMessageOneWayUs'), num('oneWay8BUs'));
  rows.push(['  postMessage / tsmpi', fmt(lat, 2, 'x'), '>= 10x', lat === undefined ? undefined : lat >= 10]);
  rows.push(['1 MiB TypedArray.set SAB -> SAB', fmt(num('copyGBps'), 2, 'GB/s'), 'baseline', true]);
  rows.push(['1 MiB bandwidth, tsmpi (window 8)', fmt(num('bw1MiBGBps'), 2, 'GB/s'), '', true]);
  const b1 = ratio(num('bw1MiBGBps'), num('copyGBps'));
  rows.push(['  tsmpi / copy, 1 MiB', fmt(b1, 2, ''), '>= 0.70', b1 === undefined ? undefined : b1 >= 0.7]);
  rows.push(['16 MiB TypedArray.set SAB -> SAB', fmt(num('copy16MiBGBps'), 2, 'GB/s'), 'baseline', true]);
  rows.push(['16 MiB bandwidth, tsmpi (window 2)', fmt(num('bw16MiBGBps'), 2, 'GB/s'), '', true]);
  const b16 = ratio(num('bw16MiBGBps'), num('copy16MiBGBps'));
  rows.push(['  tsmpi / copy, 16 MiB', fmt(b16, 2, ''), '>= 0.70', b16 === undefined ? undefined : b16 >= 0.7]);
  for (const [k, target] of [['1e4', 100], ['1e5', 100], ['1e6', 150]] as const) {
    const v = hit?.[k];
    rows.push([`rcache hit, ${k} regions`, fmt(v, 1, 'ns'), `<= ${target} ns`, v === undefined ? undefined : v <= target]);
  }
  const w = num('ranks1024WallMs');
  rows.push(['1024 ranks (16 nodes), barrier + allreduce', fmt(w === undefined ? undefined : w / 1000, 1, 's wall'), 'completes', w === undefined ? undefined : true]);
  const m = num('bytesPerRank');
  rows.push(['memory per rank', fmt(m === undefined ? undefined : m / 1e6, 1, 'MB'), '<= 10 MB', m === undefined ? undefined : m <= 10e6]);
  console.log(`# bench/mpi.ts — best of ${meta.reps} interleaved rounds${meta.quick ? ' (quick)' : ''}, timing ${meta.timing}, ` +
    `Node ${process.versions.node}, ${cpus().length} CPUs, load average ${meta.loadavg.map((x) => x.toFixed(2)).join(' → ')}`);
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  const w2 = Math.max(...rows.map((r) => r[2].length));
  for (const [a, b, c, met] of rows) {
    const verdict = c === '' || c === 'baseline' || c === 'floor' ? '' : met === undefined ? '' : met ? 'met' : 'not met';
    console.log(`${a.padEnd(w0)}  ${b.padStart(w1)}  ${c.padEnd(w2)}  ${verdict}`);
  }
}
