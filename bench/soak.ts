/**
 * Soak: seeded random steps (malloc/mmap/sbrk/migrate-backed buffers, send/recv at sizes across eager
 * and rendezvous, receives 8 bytes too short, allreduce, object bcast; bench/soak/steps.ts) on 4-8
 * ranks, for every configuration the study calls safe (pin-per-op, pinning x notifier, odp x notifier)
 * x intra-node transport, each job under one kind of injected fault (--inject, in turn): registration
 * failures, ODP storms, memory pressure, a queue pair forced into error, a link down (mostly for less
 * than the transport's retries, one job in four for longer). Jobs with a queue-pair or link fault run
 * on 2 nodes so that the adapter carries traffic whatever the intra-node transport. Reports steps run,
 * faults injected and survived, jobs that met an unsurvivable fault and failed typed naming it, wrong
 * deliveries (must be 0) and hangs (deadlock exit 2; must be 0).
 *
 *   npx tsx --conditions=source bench/soak.ts                 (10^5 steps in all)
 *   npx tsx --conditions=source bench/soak.ts --steps 2000    (a short form)
 *   ... --per-job 1000 --first-job 50                         (1000 steps a job, from job 50 of the rotation)
 */
import { runJob, type JobResult } from '@tsmpi/mpi';

export interface SoakTotals {
  jobs: number;
  steps: number;
  /** Jobs that completed with every byte right. */
  survived: number;
  /** Jobs that failed with a typed error naming the injected fault. */
  failedTyped: number;
  /** Faults injected (RankStats.faults summed over ranks and jobs), and those in jobs that completed. */
  faultsInjected: number;
  faultsSurvived: number;
  /** Jobs per fault kind: [completed, failed typed]. */
  byKind: Record<string, [number, number]>;
  wrong: number;
  /** Receives 8 bytes too short that failed with a TruncationError while their send completed. */
  truncations: number;
  hangs: number;
  /** The deadlock reports of the jobs that hung, with their configuration. */
  hangReports: string[];
  other: string[];
}

const CONFIGS = [
  { fabric: 'pinning', rcache: 'off' },
  { fabric: 'pinning', rcache: 'notifier' },
  { fabric: 'odp', rcache: 'notifier' },
] as const;
const INTRA = ['rdma', 'shm', 'cma', 'xpmem', 'auto'] as const;
/** One kind of fault per job, in turn (job → --inject spec without the seed). */
const FAULTS: readonly [string, (job: number) => string][] = [
  ['registration', (job) => `reg-enomem:${job % 3 === 0 ? 0.02 : 0.005},reg-efault:0.002`],
  ['odp-storm', () => 'odp-storm:20'],
  ['mem-pressure', () => 'mem-pressure:10'],
  ['qp-error', (job) => `qp-error:${100 + ((job * 389) % 3000)}`],
  ['link-down', (job) => `link-down:${50 + ((job * 211) % 1000)}+${job % 4 === 0 ? 1e9 : 20_000}`],
];
const INJECTED = /injected fault (reg-enomem|reg-efault|qp-error|link-down) \(--inject\)/;

/** Runs `total` steps spread over every configuration, intra transport and 4-8 ranks. */
export async function soak(total: number, perJob = 250, firstJob = 0, onJob?: (t: SoakTotals) => void): Promise<SoakTotals> {
  const t: SoakTotals = {
    jobs: 0, steps: 0, survived: 0, failedTyped: 0, faultsInjected: 0, faultsSurvived: 0, byKind: {}, wrong: 0, truncations: 0,
    hangs: 0, hangReports: [], other: [],
  };
  const program = new URL('./soak/steps.ts', import.meta.url);
  for (let job = firstJob; t.steps < total; job++) {
    const c = CONFIGS[job % CONFIGS.length]!;
    const intra = INTRA[Math.floor(job / CONFIGS.length) % INTRA.length]!;
    // every (configuration, fault) pair within 15 jobs: 3 and 5 are coprime
    const [kind, spec] = FAULTS[job % FAULTS.length]!;
    const np = 4 + (job % 5);
    const nodes = kind === 'qp-error' || kind === 'link-down' ? 2 : 1;
    const steps = Math.min(perJob, total - t.steps);
    const inject = `${spec(job)},seed:${job + 1}`;
    const r: JobResult = await runJob({ np, nodes, program, args: [String(steps), String(job + 1)], ...c, intra, inject, captureOutput: true, deadlockMs: 3000 });
    t.jobs++;
    t.steps += steps;
    const values = r.ranks.map((x) => x.value as { wrong?: number; truncations?: number } | undefined);
    t.wrong += values.reduce((n, v) => n + (v?.wrong ?? 0), 0);
    t.truncations += values.reduce((n, v) => n + (v?.truncations ?? 0), 0);
    const faults = Object.values(r.totals?.faults ?? {}).reduce((a, b) => a + b, 0);
    // a job that failed reports no counts; the fault it names was injected
    t.faultsInjected += r.exitCode !== 0 && faults === 0 ? 1 : faults;
    const k = (t.byKind[kind] ??= [0, 0]);
    if (r.exitCode === 0) {
      t.survived++;
      t.faultsSurvived += faults;
      k[0]++;
    } else if (r.exitCode === 2) {
      t.hangs++;
      t.hangReports.push(`job ${job}: ${c.fabric}/${c.rcache}/${intra} np ${np} nodes ${nodes} --inject ${inject}: ${r.error?.message ?? ''}`);
    }
    else if (INJECTED.test(r.error?.message ?? '')) {
      t.failedTyped++;
      k[1]++;
    } else t.other.push(`${c.fabric}/${c.rcache}/${intra} np ${np} --inject ${inject}: ${r.error?.message ?? `exit ${r.exitCode}`}`);
    onJob?.(t);
  }
  return t;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const flag = (name: string, fallback: number): number => {
    const at = process.argv.indexOf(name);
    return at > 0 ? Number(process.argv[at + 1]) : fallback;
  };
  const total = flag('--steps', 100_000);
  const started = performance.now();
  // --per-job: steps per job (fewer, longer jobs start fewer workers); --first-job: where in the rotation to begin
  const t = await soak(total, flag('--per-job', 250), flag('--first-job', 0), (p) => {
    const s = ((performance.now() - started) / 1000).toFixed(0);
    console.error(`soak: ${p.jobs} jobs, ${p.steps} steps, ${s} s: ${p.survived} completed, ${p.failedTyped} failed typed, ` +
      `${p.faultsInjected} faults, ${p.wrong} wrong, ${p.hangs} hangs, ${p.other.length} other`);
  });
  console.log(`soak: ${t.steps} steps in ${t.jobs} jobs (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  console.log(`  faults injected: ${t.faultsInjected}; survived (in jobs that completed): ${t.faultsSurvived}`);
  console.log(`  jobs that completed, every byte right: ${t.survived}`);
  console.log(`  jobs that met an unsurvivable injected fault and failed with a typed error naming it: ${t.failedTyped}`);
  for (const [kind, [ok, typed]] of Object.entries(t.byKind)) console.log(`    ${kind}: ${ok} completed, ${typed} failed typed`);
  console.log(`  wrong deliveries: ${t.wrong} (must be 0)`);
  console.log(`  truncated receives failed typed, their sends completed: ${t.truncations}`);
  console.log(`  hangs: ${t.hangs} (must be 0)`);
  for (const h of t.hangReports) console.log(`  hang: ${h}`);
  for (const o of t.other) console.log(`  other failure: ${o}`);
  process.exitCode = t.wrong === 0 && t.hangs === 0 && t.other.length === 0 ? 0 : 1;
}
