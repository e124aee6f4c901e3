// The PMI clients against the real thing: MPICH's Hydra (Debian's `mpich`, mpiexec.hydra 4.0.2) starts
// three plain Node processes that put, fence and get through the inherited PMI_FD, in both protocols.
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const program = fileURLToPath(new URL('./programs/pmi-kvs.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('..', import.meta.url));

function mpiexecPath(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v mpiexec'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const mpiexec = mpiexecPath();
// In CI a missing mpiexec is a failure (.ci/run installs it); elsewhere these tests are skipped.
const inCI = process.env.CI === 'true' || process.env.CI === '1';

describe('PMI clients under MPICH Hydra', () => {
  it.runIf(inCI)('mpiexec is installed (CI)', () => {
    expect(mpiexec, 'mpiexec not found: .ci/run installs it with apt-get install -y --no-install-recommends mpich').toBeDefined();
  });

  // PMI_FD: the socket Hydra hands each process; PMI_PORT (-pmi-port): a TCP port and a PMI_ID, which
  // survive wrappers that do not pass file descriptors on (npx).
  for (const [mode, flags] of [['PMI_FD', []], ['PMI_PORT', ['-pmi-port']]] as const) {
    for (const version of ['1', '2'] as const) {
      it.skipIf(!mpiexec)(`PMI-${version} over ${mode}: 3 processes put, fence and get every key; an absent key is a PmiError`, () => {
        const run = spawnSync('mpiexec', [...flags, '-n', '3', process.execPath, '--import', 'tsx', program], {
          cwd: packageDir,
          env: { ...process.env, TSMPI_PMI: version },
          encoding: 'utf8',
          timeout: 40_000,
        });
        expect(run.status, run.stderr).toBe(0);
        const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
        lines.sort((a, b) => (a.rank as number) - (b.rank as number));
        expect(lines).toEqual([0, 1, 2].map((rank) => ({
          version: Number(version), rank, size: 3, appnum: 0, kvs: true, seen: ['v0', 'v1', 'v2'], missing: 'PmiError',
        })));
      });
    }
  }

  it.skipIf(!mpiexec)('a wrapper that drops PMI_FD (a Node child process) gets an error that says how to start tsmpi', () => {
    const wrapper = `require('child_process').spawnSync(process.execPath, ['--import', 'tsx', ${JSON.stringify(program)}], { stdio: 'inherit' })`;
    const run = spawnSync('mpiexec', ['-n', '1', process.execPath, '-e', wrapper], { cwd: packageDir, encoding: 'utf8', timeout: 40_000 });
    expect(run.stderr).toContain('is not an open socket in this process');
    expect(run.stderr).toContain('mpiexec -pmi-port -n K npx tsmpi run');
  });
});
