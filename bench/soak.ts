/**
 * Soak: seeded random steps (malloc/free churn, send/recv at sizes across eager and rendezvous,
 * receives 8 bytes too short, allreduce, object bcast; bench/soak/steps.ts) on 4-8 ranks, for every configuration the study
 * calls safe (pin-per-op, pinning x notifier, odp x notifier) x intra-node transport, with seeded
 * registration faults (--inject). Reports steps run, jobs that met an injected fault and failed typed,
 * jobs that survived, wrong deliveries (must be 0) and hangs (deadlock exit 2; must be 0).
 *
 *   npx tsx --conditions=source bench/soak.ts                 (10^5 steps in all)
 *   npx tsx --conditions=source bench/soak.ts --steps 2000    (a short form)
 */
import { runJob, type JobResult } from '@tsmpi/mpi';

export interface SoakTotals {
  jobs: number;
  steps: number;
  survived: number;
  failedTyped: number;
  wrong: number;
  /** Receives 8 bytes too short that failed with a TruncationError while their send completed. */
  truncations: number;
  hangs: number;
  other: string[];
}

const CONFIGS = [
  { fabric: 'pinning', rcache: 'off' },
  { fabric: 'pinning', rcache: 'notifier' },
  { fabric: 'odp', rcache: 'notifier' },
] as const;
const INTRA = ['rdma', 'shm', 'cma', 'xpmem', 'auto'] as const;

/** Runs `total` steps spread over every configuration, intra transport and 4-8 ranks. */
export async function soak(total: number, perJob = 250): Promise<SoakTotals> {
  const t: SoakTotals = { jobs: 0, steps: 0, survived: 0, failedTyped: 0, wrong: 0, truncations: 0, hangs: 0, other: [] };
  const program = new URL('./soak/steps.ts', import.meta.url);
  for (let job = 0; t.steps < total; job++) {
    const c = CONFIGS[job % CONFIGS.length]!;
    const intra = INTRA[Math.floor(job / CONFIGS.length) % INTRA.length]!;
    const np = 4 + (job % 5);
    const steps = Math.min(perJob, total - t.steps);
    const inject = `reg-enomem:${job % 3 === 0 ? 0.02 : 0.005},reg-efault:0.002,seed:${job + 1}`;
    const r: JobResult = await runJob({ np, program, args: [String(steps), String(job + 1)], ...c, intra, inject, captureOutput: true, deadlockMs: 3000 });
    t.jobs++;
    t.steps += steps;
    const values = r.ranks.map((x) => x.value as { wrong?: number; truncations?: number } | undefined);
    t.wrong += values.reduce((n, v) => n + (v?.wrong ?? 0), 0);
    t.truncations += values.reduce((n, v) => n + (v?.truncations ?? 0), 0);
    if (r.exitCode === 0) t.survived++;
    else if (r.exitCode === 2) t.hangs++;
    else if (/injected fault reg-e(nomem|fault)/.test(r.error?.message ?? '')) t.failedTyped++;
    else t.other.push(`${c.fabric}/${c.rcache}/${intra} np ${np}: ${r.error?.message ?? `exit ${r.exitCode}`}`);
  }
  return t;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const at = process.argv.indexOf('--steps');
  const total = at > 0 ? Number(process.argv[at + 1]) : 100_000;
  const started = performance.now();
  const t = await soak(total);
  console.log(`soak: ${t.steps} steps in ${t.jobs} jobs (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  console.log(`  jobs that met an injected fault and failed with a typed error naming it: ${t.failedTyped}`);
  console.log(`  jobs that completed (faults survived by evict-and-retry, or none drawn): ${t.survived}`);
  console.log(`  wrong deliveries: ${t.wrong} (must be 0)`);
  console.log(`  truncated receives failed typed, their sends completed: ${t.truncations}`);
  console.log(`  hangs: ${t.hangs} (must be 0)`);
  for (const o of t.other) console.log(`  other failure: ${o}`);
  process.exitCode = t.wrong === 0 && t.hangs === 0 && t.other.length === 0 ? 0 : 1;
}
