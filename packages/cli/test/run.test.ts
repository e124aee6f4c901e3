import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRunArgs } from '../src/args.js';
import { infoText } from '../src/info.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'packages/cli/bin/tsmpi.js');

function tsmpi(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, TSMPI_SOURCE: '1', ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('tsmpi run: arguments', () => {
  it('takes -n, -np, --np=, size units, and leaves the program its own arguments', () => {
    expect(parseRunArgs(['-n', '4', '--fabric', 'odp', '--rcache=none', '--eager', '1K', '--stats', 'p.ts', '--x', '1'])).toEqual({
      np: 4,
      options: { fabric: 'odp', rcache: 'none', eagerThreshold: 1024, stats: true, compute: 'measured' },
      program: 'p.ts',
      args: ['--x', '1'],
      labels: { np: '-n', fabric: '--fabric', rcache: '--rcache', eagerThreshold: '--eager', stats: '--stats' },
    });
    expect(parseRunArgs(['-np', '3', 'p.ts']).np).toBe(3);
    expect(parseRunArgs(['--np=5', '--nodes', '2', '--memlock', 'unlimited', 'p.ts']).options).toEqual({ nodes: 2, memlock: Infinity, compute: 'measured' });
  });

  it('--compute: measured by default, measured:FACTOR, none, or TSMPI_COMPUTE', () => {
    expect(parseRunArgs(['-n', '1', '--compute', 'none', 'p.ts']).options.compute).toBe('none');
    expect(parseRunArgs(['-n', '1', '--compute=measured:2.5', 'p.ts']).options.compute).toBe('measured:2.5');
    expect(parseRunArgs(['-n', '1', 'p.ts'], { TSMPI_COMPUTE: 'none' }).options.compute).toBe('none');
    expect(() => parseRunArgs(['-n', '1', '--compute', 'fast', 'p.ts'])).toThrow(/measured:FACTOR/);
  });

  it('TSMPI_* variables give defaults that flags override', () => {
    const c = parseRunArgs(['--rcache', 'off', 'p.ts'], { TSMPI_NP: '6', TSMPI_RCACHE: 'hooks', TSMPI_FABRIC: 'odp' });
    expect(c.np).toBe(6);
    expect(c.options).toMatchObject({ rcache: 'off', fabric: 'odp' });
  });

  it('says what is wrong and how to fix it', () => {
    expect(() => parseRunArgs(['p.ts'])).toThrow(/how many ranks\? give -n N/);
    expect(() => parseRunArgs(['-n', '2'])).toThrow(/no program given/);
    expect(() => parseRunArgs(['-n', 'two', 'p.ts'])).toThrow(/-n: expected a positive integer, got 'two'/);
    expect(() => parseRunArgs(['-n', '2', '--fabric', 'tcp', 'p.ts'])).toThrow(/use one of pinning, odp/);
    expect(() => parseRunArgs(['-n', '2', '--frobnicate', 'p.ts'])).toThrow(/unknown option --frobnicate/);
  });
});

describe('tsmpi info', () => {
  it('lists adapters, cache policies and the cost presets with their figures', () => {
    const t = infoText();
    expect(t).toContain('fabrics:          pinning, odp (default pinning)');
    expect(t).toContain('rcache policies:  off, none, hooks, notifier (default notifier)');
    expect(t).toMatch(/hdr +latency 0\.6 us/);
  });
});

describe('tsmpi run: end to end (a child process per case)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsmpi-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs examples/hello.ts on 2 ranks and exits 0', async () => {
    const r = await tsmpi(['run', '-n', '2', 'examples/hello.ts']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('hello from rank 0 of 2');
    expect(r.stdout).toContain('hello from rank 1 of 2');
    expect(r.stdout).toContain('rank 0 heard from: rank-1');
  });

  it('--stats prints a row per rank and the job total', async () => {
    const r = await tsmpi(['run', '-n', '2', '--stats', 'examples/hello.ts']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const head = lines.findIndex((l) => l.startsWith('tsmpi stats: 2 ranks on 1 node(s), fabric pinning, rcache notifier'));
    expect(head).toBeGreaterThanOrEqual(0);
    const cols = lines[head + 1]!.trim().split(/\s+/);
    expect(cols.slice(0, 4)).toEqual(['rank', 'node', 'virtual_us', 'eager']);
    const row = (name: string) => lines.find((l) => l.trim().startsWith(name + ' '))!.trim().split(/\s+/);
    // rank 1 sent one eager object to rank 0; rank 0 sent nothing
    expect(row('0')[cols.indexOf('eager')]).toBe('0');
    expect(row('1')[cols.indexOf('eager')]).toBe('1');
    expect(row('total')[cols.indexOf('eager')]).toBe('1');
    expect(Number(row('total')[cols.indexOf('mr_reg')])).toBe(2); // each rank registered its bounce slab
  });

  it('a program outside the repository imports @tsmpi/mpi (no package.json needed), with TSMPI_NP', async () => {
    const prog = join(dir, 'outside.ts');
    writeFileSync(
      prog,
      [
        "import { init } from '@tsmpi/mpi';",
        'const w = init();',
        'const b = w.alloc(Float64Array, 3);',
        'if (w.rank === 0) { b.set([1, 2, 3]); w.send(b, 1, 0); }',
        "else { w.recv(b, 0, 0); console.log('outside got', Array.from(b.toArray()).join(','), process.argv.slice(2).join(' ')); }",
      ].join('\n'),
    );
    const r = await tsmpi(['run', prog, 'alpha', 'beta'], { TSMPI_NP: '2' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('outside got 1,2,3 alpha beta');
  });

  it('a rank that throws: exit 1, the rank, error and stack on stderr', async () => {
    const prog = join(dir, 'throws.ts');
    writeFileSync(prog, "import { init } from '@tsmpi/mpi';\nconst w = init();\nif (w.rank === 1) throw new Error('boom');\nw.recvObject(1, 0);\n");
    const r = await tsmpi(['run', '-n', '2', prog]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('tsmpi: rank 1 failed: Error: boom');
    expect(r.stderr).toContain('throws.ts');
    expect(r.stderr).toContain('tsmpi: job ended with exit code 1');
  });

  it('usage errors exit 64 with the reason', async () => {
    const r = await tsmpi(['run', '-n', '2', 'examples/no-such-file.ts']);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/no-such-file\.ts does not exist/);
    const u = await tsmpi(['launch']);
    expect(u.code).toBe(64);
    expect(u.stderr).toMatch(/unknown command 'launch'/);
  });
});
