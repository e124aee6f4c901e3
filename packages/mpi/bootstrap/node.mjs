// Entry of a node process that runProcsJob() starts (tsmpi's own launcher, embedded): run one node of
// the job described in TSMPI_NODE_JOB and, on node 0, write the whole job's result where the launcher
// reads it. Plain JavaScript, so it loads before any TypeScript can; the launcher adds tsx to the
// process's flags when the runtime runs from its sources.
import { readFileSync, writeFileSync } from 'node:fs';
import { deserialize, serialize } from 'node:v8';

const job = deserialize(readFileSync(process.env.TSMPI_NODE_JOB));
const { runNode } = await import(job.nodeModuleURL);
const r = await runNode({ ...job.run, env: process.env });
if (r.leader) {
  const { leader: _leader, node: _node, ...result } = r;
  writeFileSync(job.resultPath, serialize(result));
}
process.exitCode = r.exitCode;
