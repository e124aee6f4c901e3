// The PMI-2 client against Slurm's own pmi2 plugin (srun --mpi=pmi2), and Hydra inside a Slurm
// allocation. scripts/slurm-one-host.sh starts a one-host cluster; .ci/run does so, and in CI a
// missing or stopped Slurm fails these tests instead of skipping them.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const kvsProgram = fileURLToPath(new URL('./programs/pmi-kvs.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const repoDir = fileURLToPath(new URL('../../..', import.meta.url));
const tsmpi = fileURLToPath(new URL('../../../node_modules/.bin/tsmpi', import.meta.url));

const slurmUp = spawnSync('sinfo', ['-h', '-o', '%t'], { encoding: 'utf8' }).stdout?.match(/idle|mix|alloc/) != null;
const inCI = process.env.CI === 'true' || process.env.CI === '1';

function run(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 90_000, env: { ...process.env, TSMPI_PMI: undefined } });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

describe('PMI-2 under Slurm', () => {
  it.runIf(inCI)('a Slurm cluster is up (CI: .ci/run starts one with scripts/slurm-one-host.sh)', () => {
    expect(slurmUp, 'sinfo shows no usable node: run bash scripts/slurm-one-host.sh').toBe(true);
  });

  it.skipIf(!slurmUp)('srun --mpi=pmi2: 3 processes put, fence and get every key through Slurm\'s PMI_FD (PMI-2 by default in a step)', () => {
    const r = run('srun', ['--mpi=pmi2', '-n', '3', process.execPath, '--import', 'tsx', kvsProgram], packageDir);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    lines.sort((a, b) => (a.rank as number) - (b.rank as number));
    // Slurm answers appnum -1 (no MPMD application number) where Hydra answers 0: passed on as given.
    expect(lines).toEqual([0, 1, 2].map((rank) => ({
      version: 2, rank, size: 3, appnum: -1, kvs: true, seen: ['v0', 'v1', 'v2'], missing: 'PmiError',
    })));
  });

  it.skipIf(!slurmUp)('srun --mpi=pmi2 and salloc + mpiexec run a 2-node tsmpi job: every element exact, one stats report, the in-process clocks and counters', () => {
    const args = ['run', '-n', '8', '--compute', 'none', '--stats', 'examples/allreduce.ts'];
    // The stats table without its wall-clock header: every rank's virtual time and counters.
    const table = (out: string) => out.split('\n').filter((l) => /^\s*(\d+|total)\s/.test(l)).join('\n');
    const inProcess = run(tsmpi, [...args.slice(0, 1), '--nodes', '2', ...args.slice(1)], repoDir);
    expect(inProcess.status, inProcess.stderr).toBe(0);
    expect(table(inProcess.stdout).split('\n')).toHaveLength(9);
    for (const [cmd, pre] of [['srun', ['--mpi=pmi2', '-n', '2']], ['salloc', ['-n', '2', 'mpiexec', '-n', '2']]] as const) {
      const r = run(cmd, [...pre, tsmpi, ...args], repoDir);
      expect(r.status, `${cmd}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain('allreduce SUM of 65536 doubles on 8 ranks: every element exact');
      expect(r.stdout).toContain('is bit-identical on every rank');
      expect(r.stdout.match(/tsmpi stats: 8 ranks on 2 node\(s\)/g), `${cmd}: node 0 prints --stats once`).toHaveLength(1);
      expect(table(r.stdout), `${cmd}: the same virtual times and counters as in one process`).toBe(table(inProcess.stdout));
    }
  });
});
