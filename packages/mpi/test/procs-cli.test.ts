// `tsmpi run` as a node process, through the real command: --procs with tsmpi's own PMI server, and under
// MPICH's mpiexec; the job's report and stats print once (node 0); nodes that disagree are refused;
// `tsmpi bench --procs` gives the in-process records.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inCI, mpiexecPath, repoRoot } from './procs-harness.js';

const bin = join(repoRoot, 'packages/cli/bin/tsmpi.js');
const mpiexec = mpiexecPath();

function run(file: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: repoRoot, env: { ...process.env, TSMPI_SOURCE: '1', ...env }, timeout: 90_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('tsmpi run --procs', () => {
  it('one node process: the program runs, the stats table prints once', async () => {
    const r = await run(process.execPath, [bin, 'run', '-n', '3', '--procs', '--stats', 'examples/hello.ts']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('rank 0 heard from: rank-1, rank-2');
    expect(r.stdout.match(/^tsmpi stats: 3 ranks on 1 node\(s\)/gm)).toHaveLength(1);
  });

  it('refuses --procs inside a process manager', async () => {
    const r = await run(process.execPath, [bin, 'run', '-n', '2', '--procs', 'examples/hello.ts'], { PMI_FD: '9' });
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('--procs under a process manager');
  });
});

describe('tsmpi bench --procs', () => {
  it("gives the in-process run's records: every virtual-time field equal, only wall-clock rates differ", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsmpi-bench-procs-'));
    const args = ['bench', 'latency', '--config', 'pinning:notifier', '--sizes', '1K:64K', '--iterations', '10', '--no-progress'];
    try {
      const one = await run(process.execPath, [bin, ...args, '--json', join(dir, 'one.json')]);
      const procs = await run(process.execPath, [bin, ...args, '--procs', '--json', join(dir, 'procs.json')]);
      expect(one.code, one.stderr).toBe(0);
      expect(procs.code, procs.stderr + procs.stdout).toBe(0);
      // msgs_per_s and wall_ms are the simulator's own wall-clock speed
      const records = (f: string) => (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { records: Array<Record<string, unknown>> })
        .records.map(({ msgs_per_s: _rate, wall_ms: _ms, ...r }) => r);
      const a = records('one.json');
      expect(a.length).toBeGreaterThan(0);
      expect(records('procs.json')).toEqual(a);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('tsmpi run under mpiexec', () => {
  it.runIf(inCI)('mpiexec is installed (CI)', () => expect(mpiexec).toBeDefined());

  it.skipIf(!mpiexec)('mpiexec -n 1 tsmpi run: node 0 alone runs the whole job (PMI-2)', async () => {
    const r = await run('mpiexec', ['-n', '1', process.execPath, bin, 'run', '-n', '3', 'examples/hello.ts'], { TSMPI_PMI: '2' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('rank 0 heard from: rank-1, rank-2');
  });

  it.skipIf(!mpiexec)('node processes started with different -n are refused at wire-up, naming the difference', async () => {
    const r = await run('mpiexec', [
      '-n', '1', process.execPath, bin, 'run', '-n', '4', 'examples/hello.ts', ':',
      '-n', '1', process.execPath, bin, 'run', '-n', '2', 'examples/hello.ts',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      "tsmpi: the job's node processes disagree, refusing to start: node 1 differs from node 0 in -n 4 vs 2. " +
        'Start every node with the same -n, program, arguments, flags and TSMPI_* variables.',
    );
  });

  it.skipIf(!mpiexec)('more processes than --nodes is refused with the fix', async () => {
    const r = await run('mpiexec', ['-n', '2', process.execPath, bin, 'run', '-n', '4', '--nodes', '3', 'examples/hello.ts']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('tsmpi: the process manager started 2 node process(es) but this job asks for --nodes 3');
  });
});
