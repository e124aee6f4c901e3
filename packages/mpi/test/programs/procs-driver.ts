// A node process for the tests, started by mpiexec or tsmpi's own spawner: runs the job described in
// TSMPI_TEST_JOB (JSON: np, program, args, options, out) as one node and, on node 0, writes the job's
// results (exit code, and per rank: node, outcome, value, final virtual clock, stats) to `out`
// and prints the job's failure, if any, as `tsmpi run` does.
import { writeFileSync } from 'node:fs';
import { runNode } from '../../src/launcher/procs/node.js';

interface TestJob { np: number; program: string; args?: string[]; options?: Record<string, unknown>; out: string }
const job = JSON.parse(process.env.TSMPI_TEST_JOB ?? '{}') as TestJob;
const r = await runNode({ np: job.np, program: job.program, args: job.args ?? [], ...job.options, env: process.env });
if (r.leader) {
  const ranks = r.ranks.map(({ rank, node, outcome, value, wtime, stats }) => ({ rank, node, outcome, value, wtime, stats }));
  writeFileSync(job.out, JSON.stringify({ exitCode: r.exitCode, error: r.error?.message, ranks }));
  // node 0 reports a failed job, as `tsmpi run` does
  if (r.error) console.error(`tsmpi: ${r.error.message}`);
}
process.exitCode = r.exitCode;
