/**
 * What an eager message costs the rank's JavaScript heap: bytes allocated per 8 B message and young-
 * generation collections (scavenges) per 10^5 messages, beside the 8 B one-way latency they slow.
 *
 *   npx tsx --conditions=source bench/mpi/eager-alloc.ts [--quick] [--runs N]
 *
 * A 2-rank 8 B ping-pong (blocking send/recv, one node, exact timing): each round trip a rank sends
 * one message and receives one, so "per message" is one send plus one receive on one rank. Bytes
 * allocated: the growth of V8's new space over batches of round trips (a batch that held a scavenge
 * shows a drop, counted as one scavenge and left out of the median). The figures: `eagerBytesPerMessage`
 * (median over batches, rank 0), `eagerScavengesPer1e5` and `eagerOneWay8BUs`; min / median / max
 * over `runs` (≥ 3) jobs with the machine's load. bench/mpi.ts imports measureEagerAllocation().
 * This file is also the rank program.
 */
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { getHeapSpaceStatistics } from 'node:v8';
import { inRank, init, runJob, setResult } from '@tsmpi/mpi';
import { pingPong } from './osu-loops.js';

interface RankFigures {
  bytesPerMessage: number;
  scavengesPer1e5: number;
  oneWayUs: number;
}

const newSpaceUsed = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_used_size;

if (inRank()) {
  const quick = process.argv.includes('--quick');
  const world = init();
  const small = world.alloc(Uint8Array, 8);
  const roundTrips = (n: number): void => pingPong(world, small, n);
  roundTrips(2_000); // warm-up: JIT tiers, the queue pair made on first use
  const BATCH = 100;
  const batches = quick ? 100 : 500;
  const deltas: number[] = [];
  let scavenges = 0;
  const t0 = performance.now();
  for (let b = 0; b < batches; b++) {
    const before = newSpaceUsed();
    roundTrips(BATCH);
    const d = newSpaceUsed() - before;
    if (d < 0) scavenges++;
    else deltas.push(d / BATCH);
  }
  const oneWayUs = ((performance.now() - t0) * 1000) / (2 * BATCH * batches);
  deltas.sort((a, b) => a - b);
  setResult({
    bytesPerMessage: deltas[Math.floor(deltas.length / 2)] ?? NaN,
    scavengesPer1e5: (scavenges / (BATCH * batches)) * 1e5,
    oneWayUs,
  } satisfies RankFigures);
}

const spread = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! };
};

/** The figures above over `runs` (≥ 3) jobs: min / median / max of each. */
export async function measureEagerAllocation(opts: { quick: boolean; runs?: number }): Promise<Record<string, object>> {
  const runs = Math.max(3, opts.runs ?? 3);
  const got: RankFigures[] = [];
  for (let r = 0; r < runs; r++) {
    const job = await runJob({
      np: 2, program: fileURLToPath(import.meta.url), args: opts.quick ? ['--quick'] : [], captureOutput: true, memlock: Infinity,
    });
    if (job.exitCode !== 0) throw new Error(`eager-alloc job failed: ${job.error?.message}\n${job.ranks.map((x) => x.output).join('')}`);
    got.push(job.ranks[0]!.value as RankFigures);
  }
  return {
    eagerBytesPerMessage: spread(got.map((f) => f.bytesPerMessage)),
    eagerScavengesPer1e5: spread(got.map((f) => f.scavengesPer1e5)),
    eagerOneWay8BUs: spread(got.map((f) => f.oneWayUs)),
  };
}

if (!inRank() && process.argv[1] === fileURLToPath(import.meta.url)) {
  const argv = process.argv;
  const i = argv.indexOf('--runs');
  const load0 = loadavg()[0]!;
  const f = await measureEagerAllocation({ quick: argv.includes('--quick'), ...(i >= 0 ? { runs: Number(argv[i + 1]) } : {}) });
  const fmt = (x: { min: number; median: number; max: number }, d: number) => `${x.min.toFixed(d)} / ${x.median.toFixed(d)} / ${x.max.toFixed(d)}`;
  const v = f as Record<string, { min: number; median: number; max: number }>;
  console.log(`# bench/mpi/eager-alloc.ts — 8 B ping-pong, 2 ranks, min / median / max of the runs, load ${load0.toFixed(2)} → ${loadavg()[0]!.toFixed(2)}`);
  console.log(`bytes allocated per message (send + receive, rank 0)  ${fmt(v.eagerBytesPerMessage!, 0)}`);
  console.log(`scavenges per 10^5 messages                            ${fmt(v.eagerScavengesPer1e5!, 1)}`);
  console.log(`8 B one-way latency, µs                                ${fmt(v.eagerOneWay8BUs!, 2)}`);
}
