/**
 * Wall-clock bandwidth of large messages between 2 ranks against the copy they cannot beat, and what
 * the copies walk: the physical pieces per MiB of the ranks' buffers.
 *
 *   npx tsx --conditions=source bench/mpi/bandwidth-parts.ts [--quick]
 *
 * - `bw1MiBGBps`, `bw16MiBGBps`: osu_bw's loop (a window of isends, one ack) of 1 MiB (window 8) and
 *   16 MiB (window 2) messages; as in osu_bw nobody touches the buffers first, so both ranks' pages
 *   fault in as they register them, at the same moment (the sender fills its buffers after that);
 * - `copyGBps`, `copy16MiBGBps`: TypedArray.set between two SharedArrayBuffers of that size;
 * - `bw1MiBRatio`, `bw16MiBRatio`: bandwidth over copy (target ≥ 0.70);
 * - `piecesPerMiB`: { "1MiB", "16MiB" }, each {min, max} over both ranks and every run: physically
 *   consecutive runs per MiB of the buffers (1 is one run; 256 is every 4 KiB page on its own);
 * - `sleepsPerMessage`: { "1MiB", "16MiB" }, each { sender, receiver } as {min, max} over the runs:
 *   how often a rank slept (on its doorbell or, with exact timing, on the rank that held it back)
 *   per message of the timed loop — the hand-offs that cost a wake-up.
 * `--timing exact|fast` (default exact, as tsmpi runs) times the jobs under that timing.
 * Each figure is the best of `runs` (≥ 5) repetitions, the job and the copies interleaved.
 * bench/mpi.ts imports measureBandwidth() for these figures. This file is also the rank program.
 */
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { inRank, init, runJob, setResult, type TimingKind } from '@tsmpi/mpi';
import { osuWindow } from './osu-loops.js';

const MIB = 1 << 20;
export const BANDWIDTH_RATIO_TARGET = 0.7;

interface RankFigures {
  bw1MiBGBps: number;
  bw16MiBGBps: number;
  /** Physical pieces per MiB of the 1 MiB and the 16 MiB buffers. */
  pieces1MiB: number;
  pieces16MiB: number;
  /** This rank's sleeps per message of the timed 1 MiB and 16 MiB loops. */
  sleeps1MiB: number;
  sleeps16MiB: number;
}

if (inRank()) {
  const quick = process.argv.includes('--quick');
  const world = init();
  const ack = world.alloc(Uint8Array, 1);
  let pieces = 0;
  let sleeps = 0;
  const stream = (size: number, window: number, iters: number): number => {
    const bufs = Array.from({ length: window }, () => world.alloc(Uint8Array, size));
    const once = () => osuWindow(world, bufs, ack);
    // As in osu_bw, nobody touches the buffers first: both ranks' pages fault in as they register
    // them, at the same moment, so their faults interleave.
    world.barrier();
    once();
    if (world.rank === 0) for (const [i, b] of bufs.entries()) b.fill(i + 1);
    world.barrier();
    const slept = world.stats().messages.blockingWaits;
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) once();
    const seconds = (performance.now() - t0) / 1000;
    sleeps = (world.stats().messages.blockingWaits - slept) / (iters * window);
    pieces = 0;
    for (const b of bufs) pieces += world.space.runs(b.addr, b.byteLength, 'read').length / (b.byteLength / MIB) / window;
    const last = bufs[window - 1]!.toArray();
    if (last[0] !== window || last[size - 1] !== window) throw new Error(`bandwidth-parts: ${size}-byte message arrived wrong`);
    for (const b of bufs) b.free();
    return (iters * window * size) / seconds / 1e9;
  };
  const bw1MiBGBps = stream(MIB, 8, quick ? 10 : 40);
  const pieces1MiB = pieces;
  const sleeps1MiB = sleeps;
  const bw16MiBGBps = stream(16 * MIB, 2, quick ? 3 : 10);
  setResult({ bw1MiBGBps, bw16MiBGBps, pieces1MiB, pieces16MiB: pieces, sleeps1MiB, sleeps16MiB: sleeps } satisfies RankFigures);
}

/** TypedArray.set between two SharedArrayBuffers: GB/s for `bytes`-byte copies, best of `runs`. */
function sabCopyGBps(bytes: number, iters: number, runs: number): number {
  const src = new Uint8Array(new SharedArrayBuffer(bytes));
  const dst = new Uint8Array(new SharedArrayBuffer(bytes));
  for (let i = 0; i < bytes; i++) src[i] = i & 0xff;
  for (let i = 0; i < 5; i++) dst.set(src);
  let best = 0;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) dst.set(src);
    best = Math.max(best, (bytes * iters) / ((performance.now() - t0) / 1000) / 1e9);
  }
  return best;
}

/** The figures above, each the best of `runs` interleaved repetitions. */
export async function measureBandwidth(opts: { quick: boolean; runs?: number; timing?: TimingKind }): Promise<Record<string, number | object>> {
  const runs = Math.max(5, opts.runs ?? 5);
  const program = fileURLToPath(import.meta.url);
  let copyGBps = 0;
  let copy16MiBGBps = 0;
  let bw1 = 0;
  let bw16 = 0;
  const all: RankFigures[] = [];
  for (let r = 0; r < runs; r++) {
    copyGBps = Math.max(copyGBps, sabCopyGBps(MIB, 200, 1));
    copy16MiBGBps = Math.max(copy16MiBGBps, sabCopyGBps(16 * MIB, 12, 1));
    // 16 MiB x 2 in flight per side plus 8 x 1 MiB: above the default 8 MiB memlock, as HPC sites configure
    const job = await runJob({ np: 2, program, args: opts.quick ? ['--quick'] : [], captureOutput: true, memlock: Infinity, timing: opts.timing ?? 'exact' });
    if (job.exitCode !== 0) throw new Error(`bandwidth job failed: ${job.error?.message}\n${job.ranks.map((x) => x.output).join('')}`);
    for (const rank of job.ranks) all.push(rank.value as RankFigures);
    const f = job.ranks[0]!.value as RankFigures;
    bw1 = Math.max(bw1, f.bw1MiBGBps);
    bw16 = Math.max(bw16, f.bw16MiBGBps);
  }
  const range = (k: keyof RankFigures, of = all) => ({ min: Math.min(...of.map((x) => x[k])), max: Math.max(...of.map((x) => x[k])) });
  // all[] holds rank 0 (the sender) then rank 1 of each run
  const sides = (k: 'sleeps1MiB' | 'sleeps16MiB') => ({ sender: range(k, all.filter((_, i) => i % 2 === 0)), receiver: range(k, all.filter((_, i) => i % 2 === 1)) });
  return {
    copyGBps,
    copy16MiBGBps,
    bw1MiBGBps: bw1,
    bw16MiBGBps: bw16,
    bw1MiBRatio: bw1 / copyGBps,
    bw16MiBRatio: bw16 / copy16MiBGBps,
    piecesPerMiB: { '1MiB': range('pieces1MiB'), '16MiB': range('pieces16MiB') },
    sleepsPerMessage: { '1MiB': sides('sleeps1MiB'), '16MiB': sides('sleeps16MiB') },
    runs: { bw1MiBGBps: all.filter((_, i) => i % 2 === 0).map((x) => x.bw1MiBGBps), bw16MiBGBps: all.filter((_, i) => i % 2 === 0).map((x) => x.bw16MiBGBps) },
  };
}

if (!inRank() && process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const json = process.argv.includes('--json');
  const at = process.argv.indexOf('--timing');
  const timing = (at > 0 ? process.argv[at + 1] : 'exact') as TimingKind;
  if (timing !== 'exact' && timing !== 'fast') throw new Error(`--timing: exact or fast, got ${timing}`);
  const load0 = loadavg()[0]!;
  const out = await measureBandwidth({ quick, timing });
  const load1 = loadavg()[0]!;
  if (json) console.log(JSON.stringify({ ...out, timing, load: [load0, load1] }));
  else {
    const n = (k: string) => (out[k] as number).toFixed(2);
    const pieces = out.piecesPerMiB as Record<string, { min: number; max: number }>;
    const p = (k: string) => `${pieces[k]!.min.toFixed(1)} .. ${pieces[k]!.max.toFixed(1)}`;
    console.log(`node ${process.version}, ${new Date().toISOString()}, --timing ${timing}, load ${load0.toFixed(1)} → ${load1.toFixed(1)}`);
    console.log(`1 MiB:  tsmpi ${n('bw1MiBGBps')} GB/s, copy ${n('copyGBps')} GB/s, ratio ${n('bw1MiBRatio')} (target ${BANDWIDTH_RATIO_TARGET})`);
    console.log(`16 MiB: tsmpi ${n('bw16MiBGBps')} GB/s, copy ${n('copy16MiBGBps')} GB/s, ratio ${n('bw16MiBRatio')} (target ${BANDWIDTH_RATIO_TARGET})`);
    console.log(`physical pieces per MiB of the ranks' buffers: 1 MiB ones ${p('1MiB')}, 16 MiB ones ${p('16MiB')}`);
    const sleeps = out.sleepsPerMessage as Record<string, Record<'sender' | 'receiver', { min: number; max: number }>>;
    const z = (k: string, side: 'sender' | 'receiver') => `${sleeps[k]![side].min.toFixed(2)} .. ${sleeps[k]![side].max.toFixed(2)}`;
    console.log(`sleeps per message (sender / receiver): 1 MiB ${z('1MiB', 'sender')} / ${z('1MiB', 'receiver')}, 16 MiB ${z('16MiB', 'sender')} / ${z('16MiB', 'receiver')}`);
    console.log(`runs: ${JSON.stringify(out.runs)}`);
  }
}
