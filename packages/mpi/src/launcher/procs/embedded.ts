import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import { resolveOptions } from '../../options.js';
import { toProgramURL, type JobResult, type RunJobOptions } from '../job.js';
import { sumStats } from '../../stats.js';
import { spawnNodes } from './spawn.js';

/**
 * runJob() with every node its own OS process on this host (what `tsmpi run --procs` does, for code
 * that embeds tsmpi: `tsmpi bench --procs`, tests). The node processes wire up under tsmpi's own PMI
 * server; node 0 hands the whole job's result back through a file. Same options, same JobResult;
 * ranks[i].output when captureOutput is set.
 */
export async function runProcsJob(opts: RunJobOptions): Promise<JobResult> {
  const started = performance.now();
  const { np, program, args = [], captureOutput = false, role: _role, ...rest } = opts;
  const options = resolveOptions(np, rest); // bad options fail here, once
  const dir = mkdtempSync(join(tmpdir(), 'tsmpi-job-'));
  const jobPath = join(dir, 'job');
  const resultPath = join(dir, 'result');
  const here = import.meta.url;
  const fromSource = here.endsWith('.ts');
  writeFileSync(jobPath, serialize({
    nodeModuleURL: new URL(`./node.${fromSource ? 'ts' : 'js'}`, here).href,
    resultPath,
    run: { np, program: toProgramURL(program), args, ...rest, captureOutput },
  }));
  // With captureOutput, what the node processes print outside their ranks (and the spawner's own
  // report) lands in the error message of a job that died before node 0 could report.
  let launcherOutput = '';
  try {
    const exitCode = await spawnNodes({
      nodes: options.nodes,
      argv: [fileURLToPath(new URL('../../../bootstrap/node.mjs', here))],
      execArgv: fromSource ? ['--conditions=source', '--import', import.meta.resolve('tsx')] : [],
      env: { ...process.env, TSMPI_NODE_JOB: jobPath },
      ...(captureOutput ? { report: (line: string) => void (launcherOutput += line + '\n'), output: (text: string) => void (launcherOutput += text) } : {}),
    });
    let result: Omit<JobResult, 'wallMs'> | undefined;
    try {
      result = deserialize(readFileSync(resultPath)) as Omit<JobResult, 'wallMs'>;
    } catch {
      // node 0 never got to write it: the job died before its end (a node killed, wire-up refused)
    }
    if (result) return { ...result, exitCode: result.exitCode || exitCode, wallMs: performance.now() - started };
    return {
      exitCode: exitCode || 1,
      ranks: [],
      error: { kind: 'exit', message: `the node processes ended before node 0 reported (exit status ${exitCode})${launcherOutput ? `:\n${launcherOutput.trimEnd()}` : ''}` },
      totals: sumStats([]),
      options,
      wallMs: performance.now() - started,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
