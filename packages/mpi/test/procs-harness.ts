// Runs one job three ways for the multi-process tests: in one process (runJob), as node processes
// spawned by tsmpi's own PMI server (--procs), and as node processes started by MPICH's mpiexec with
// PMI-1 or PMI-2. Each way yields the same shape: exit code, per-rank results, and the output lines.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import { runJob, type JobResult } from '../src/launcher/job.js';
import { spawnNodes } from '../src/launcher/procs/spawn.js';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
// The node processes run the launcher's own node entry, as runProcsJob's do.
const nodeEntry = fileURLToPath(new URL('../bootstrap/node.mjs', import.meta.url));
const nodeModuleURL = new URL('../src/launcher/procs/node.ts', import.meta.url).href;
const NODE_FLAGS = ['--conditions=source', '--import', 'tsx'];
const packageDir = fileURLToPath(new URL('..', import.meta.url));

export interface JobSpec {
  np: number;
  nodes: number;
  program: string;
  args?: string[];
  options?: Record<string, unknown>;
  /** Extra environment for the node processes. */
  env?: Record<string, string>;
}

export interface Outcome {
  exitCode: number;
  error?: string;
  ranks: Array<{ rank: number; node: number; outcome: string; value?: unknown; wtime?: number; stats?: unknown }>;
  /** Every line the ranks printed, sorted (processes interleave them). */
  lines: string[];
  /** What the launcher itself wrote to stderr (mpiexec / spawner reports, node 0's report). */
  stderr: string;
  wallMs: number;
}

export const inCI = process.env.CI === 'true' || process.env.CI === '1';

export function mpiexecPath(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v mpiexec'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

function sortedLines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '').sort();
}

export async function inProcess(spec: JobSpec): Promise<Outcome> {
  const r = await runJob({ np: spec.np, nodes: spec.nodes, program: join(repoRoot, spec.program), args: spec.args ?? [], ...spec.options, captureOutput: true });
  return {
    exitCode: r.exitCode,
    ...(r.error ? { error: r.error.message } : {}),
    ranks: r.ranks.map(({ rank, node, outcome, value, wtime, stats }) => ({ rank, node, outcome, value, wtime, stats })),
    lines: sortedLines(r.ranks.map((x) => x.output ?? '').join('\n')),
    stderr: '',
    wallMs: r.wallMs,
  };
}

/** The job file bootstrap/node.mjs reads (TSMPI_NODE_JOB); node 0 writes the JobResult to `out`. */
function jobEnv(spec: JobSpec, dir: string, out: string): Record<string, string> {
  const file = join(dir, 'job');
  const run = { np: spec.np, program: join(repoRoot, spec.program), args: spec.args ?? [], nodes: spec.nodes, ...spec.options };
  writeFileSync(file, serialize({ nodeModuleURL, resultPath: out, run }));
  return { ...(process.env as Record<string, string>), ...spec.env, TSMPI_NODE_JOB: file };
}

function collect(out: string, stdout: string, stderr: string, exit: number, started: number): Outcome {
  let result: Omit<Outcome, 'lines' | 'stderr' | 'wallMs'> = { exitCode: exit, ranks: [] };
  try {
    const r = deserialize(readFileSync(out)) as JobResult;
    const ranks = r.ranks.map(({ rank, node, outcome, value, wtime, stats }) => ({ rank, node, outcome, value, wtime, stats }));
    result = { exitCode: r.exitCode, ranks, ...(r.error ? { error: r.error.message } : {}) };
  } catch {
    // node 0 never wrote its results (it was killed, or the job never wired up)
  }
  return { ...result, exitCode: exit, lines: sortedLines(stdout), stderr, wallMs: performance.now() - started };
}

/** True while process `pid` exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `tsmpi run --procs`: spawnNodes with tsmpi's PMI server, each node process running bootstrap/node.mjs. */
export async function underProcs(spec: JobSpec, onOutput?: (text: string, pids: number[]) => void): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'tsmpi-procs-'));
  const out = join(dir, 'result.json');
  const started = performance.now();
  let stdout = '';
  let stderr = '';
  let pids: number[] = [];
  try {
    const code = await spawnNodes({
      nodes: spec.nodes,
      argv: [nodeEntry],
      execArgv: NODE_FLAGS,
      env: jobEnv(spec, dir, out),
      output: (t) => {
        stdout += t;
        onOutput?.(t, pids);
      },
      report: (s) => (stderr += s + '\n'),
      onStart: (p) => (pids = p),
    });
    return collect(out, stdout, stderr, code, started);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `mpiexec -n K node bootstrap/node.mjs` with TSMPI_PMI=1 or 2. */
export function underMpiexec(spec: JobSpec, pmi: '1' | '2', onOutput?: (text: string) => void): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'tsmpi-mpiexec-'));
  const out = join(dir, 'result.json');
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn('mpiexec', ['-n', String(spec.nodes), process.execPath, ...NODE_FLAGS, nodeEntry], {
      cwd: packageDir,
      env: { ...jobEnv(spec, dir, out), TSMPI_PMI: pmi },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => {
      stdout += t;
      onOutput?.(t);
    });
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    child.on('close', (code) => {
      const o = collect(out, stdout, stderr, code ?? -1, started);
      rmSync(dir, { recursive: true, force: true });
      resolve(o);
    });
  });
}
