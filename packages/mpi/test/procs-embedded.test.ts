// runProcsJob(): runJob with each node its own OS process, for code that embeds tsmpi (tsmpi bench
// --procs). The same JobResult as runJob: values, per-rank output, clocks and counters.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { runJob } from '../src/launcher/job.js';
import { runProcsJob } from '../src/launcher/procs/embedded.js';
import { repoRoot } from './procs-harness.js';

/** Without the counters of how threads interleaved in wall time (procs-results.test.ts says why). */
function comparable(r: Awaited<ReturnType<typeof runJob>>) {
  return r.ranks.map(({ rank, node, outcome, value, wtime, output, stats }) => {
    const s = structuredClone(stats) as unknown as { messages: Record<string, number> };
    for (const k of ['unexpectedMessages', 'matchedPosted', 'matchedUnexpected', 'blockingWaits']) delete s.messages[k];
    return { rank, node, outcome, value, wtime, output, stats: s };
  });
}

describe('runProcsJob', () => {
  it('gives the JobResult runJob gives: outputs, clocks, counters (allreduce, 2 ranks on 2 nodes)', async () => {
    const job = { np: 2, nodes: 2, program: join(repoRoot, 'examples/allreduce.ts'), captureOutput: true };
    const one = await runJob(job);
    const procs = await runProcsJob(job);
    expect(procs.exitCode).toBe(0);
    expect(procs.options).toEqual(one.options);
    expect(procs.ranks[0]!.output).toContain('every element exact');
    expect(comparable(procs)).toEqual(comparable(one));
  });

  it('a failing job resolves with its report, as runJob does', async () => {
    const r = await runProcsJob({ np: 4, nodes: 2, program: join(repoRoot, 'packages/mpi/test/programs/procs-faults.ts'), args: ['throw'], captureOutput: true });
    expect(r.exitCode).toBe(1);
    expect(r.error?.message).toBe('rank 3 on node 1 failed: Error: boom on the last node (rank 3)');
    expect(r.ranks.map((x) => x.outcome)).toContain('failed');
  });
});
