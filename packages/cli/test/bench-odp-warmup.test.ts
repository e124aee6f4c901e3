/**
 * The timed iterations of a reused buffer take no network page fault under ODP, at every size of
 * the sweep — the last one included. Regression: with one warm-up iteration, a region merged
 * partway through it became a new MR whose ODP page table was empty over what had already moved
 * through the old one, and the first timed iteration faulted (one odpFaultUs = 2000 µs in a row):
 *   latency: s_buf and r_buf were plain mallocs sharing a page, so at the largest size the cache
 *            merged the two buffers' regions (OSU page-aligns them: programs/buffers.ts now does);
 *   bw:      a receive slice's region was merged again by the next slice of the same window, which
 *            reached the previous size's leftover regions (warm-up now at least 2, as OSU's skip).
 */
import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../src/bench/args.js';
import { planJobs } from '../src/bench/plan.js';
import { runBenchJob } from '../src/bench/runner.js';
import type { RankSizeResult } from '../src/bench/job.js';

async function run(argv: string[]): Promise<{ name: string; ranks: RankSizeResult[][] }[]> {
  const o = parseBenchArgs([...argv, '--no-progress']);
  const out = [];
  for (const job of planJobs(o)) out.push({ name: job.spec.name, ranks: await runBenchJob(job, o) });
  return out;
}

describe('ODP, reused buffers: the warm-up takes every network page fault', () => {
  it('latency 16K..64K: each size faults once per buffer in its warm-up and never in its timed iterations', async () => {
    const [job] = await run(['latency', '--config', 'odp:notifier', '--pattern', 'reuse', '--sizes', '16K:64K', '--iterations', '100']);
    expect(job!.ranks.length).toBe(2);
    for (const rank of job!.ranks) {
      expect(rank.map((r) => r.size)).toEqual([16384, 32768, 65536]);
      for (const r of rank) {
        // Each size grows both buffers' regions: one miss, one registration, one fault per buffer,
        // all in the warm-up, and no merge of one buffer with the other.
        expect(r.warmup).toBe(2);
        expect(r.iterations).toBe(10);
        expect({ misses: r.misses, registrations: r.registrations, odpFaults: r.odpFaults }).toEqual({ misses: 2, registrations: 2, odpFaults: 2 });
        expect(r.timed).toEqual({ hits: 2 * r.iterations, misses: 0, registrations: 0, invalidations: 0, odpFaults: 0 });
        expect(r.messages).toBe(r.warmup + r.iterations);
        expect(r.stale).toBe(0);
      }
    }
  }, 120_000);

  it('bw 16K..32K (window 4): the receive slices regrow over the last size\'s regions, no timed fault on either rank', async () => {
    const [job] = await run(['bw', '--config', 'odp:notifier', '--pattern', 'reuse', '--sizes', '16K:32K', '--iterations', '100', '--window', '4']);
    for (const rank of job!.ranks) {
      expect(rank.length).toBe(2);
      for (const r of rank) {
        expect(r.timed).toEqual({ hits: 4 * r.iterations, misses: 0, registrations: 0, invalidations: 0, odpFaults: 0 });
        expect(r.stale).toBe(0);
      }
    }
  }, 120_000);
});
