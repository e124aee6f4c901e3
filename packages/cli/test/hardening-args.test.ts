import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkHostCapacity, parseBytes, resolveOptions, runJob } from '@tsmpi/mpi';
import { parseRunArgs, RUN_USAGE } from '../src/args.js';
import { parseSize } from '../src/bench/sizes.js';
import { USAGE, main } from '../src/main.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'packages/cli/bin/tsmpi.js');
const hello = join(root, 'examples/hello.ts');
const dir = mkdtempSync(join(tmpdir(), 'tsmpi-hardening-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tsmpi(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, TSMPI_SOURCE: '1', ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** What `tsmpi run ARGS prog` says before anything starts: the one-line usage error, or 'ok'. */
function usage(args: string[], env: Record<string, string> = {}): string {
  try {
    const cmd = parseRunArgs([...args, 'p.ts'], env);
    resolveOptions(cmd.np, cmd.options, cmd.labels);
    return 'ok';
  } catch (e) {
    expect((e as { code?: string }).code).toBe('TSMPI_USAGE');
    return (e as Error).message;
  }
}

describe('usage errors name the flag or variable and the accepted range (issue 15 items 5-8)', () => {
  it('--mem 1, 900G, unlimited; --eager 1G, unlimited', () => {
    expect(usage(['-n', '2', '--mem', '1'])).toBe('--mem 1: memory per node must be 1M to 127G bytes (default 256M)');
    expect(usage(['-n', '2', '--mem', '900G'])).toBe('--mem 900G: memory per node must be 1M to 127G bytes with 4096-byte pages');
    expect(usage(['-n', '2', '--mem', 'unlimited'])).toMatch(/^--mem unlimited: memory per node must be 1M to 127G/);
    expect(usage(['-n', '2', '--mem', '1000001'])).toMatch(/--mem 1000001: memory per node must be 1M/);
    expect(usage(['-n', '2', '--mem', '1048577'])).toMatch(/^--mem 1048577: memory per node must be a whole number of 4096-byte pages/);
    expect(usage(['-n', '2', '--eager', '1G'])).toBe('--eager 1G: the eager threshold must be 0 to 64M bytes (default 12K)');
    expect(usage(['-n', '2', '--eager', 'unlimited'])).toMatch(/^--eager unlimited: the eager threshold must be 0 to 64M/);
    expect(usage(['-n', '2', '--eager', '64M'])).toMatch(/^-n 2: the 2 ranks on one node need \d+ bytes of eager bounce buffers .* more than --mem 256M/);
    expect(usage(['-n', '2', '--mem', '1G', '--eager', '2kb'])).toBe('ok');
  });

  it('a value from a TSMPI_* variable is reported as the variable', () => {
    expect(usage(['-n', '2'], { TSMPI_FABRIC: 'zz' })).toBe('TSMPI_FABRIC=zz: unknown adapter; use one of pinning, odp');
    expect(usage(['-n', '2'], { TSMPI_MEM: '1' })).toMatch(/^TSMPI_MEM=1: memory per node must be/);
    expect(usage(['-n', '2'], { TSMPI_EAGER: '1G' })).toMatch(/^TSMPI_EAGER=1G: the eager threshold/);
    expect(usage([], { TSMPI_NP: '100000' })).toMatch(/^TSMPI_NP=100000: the 100000 ranks on one node need/);
    expect(usage(['-n', '2'], { TSMPI_TIMING: 'slow' })).toMatch(/^TSMPI_TIMING=slow: /);
    // a flag overrides the variable, and then the flag is named
    expect(usage(['-n', '2', '--mem', '2'], { TSMPI_MEM: '1' })).toMatch(/^--mem 2: /);
    expect(usage(['-n', '2', '--fabric', 'zz'])).toBe('--fabric zz: unknown adapter; use one of pinning, odp');
  });

  it('-n is checked against what the nodes hold before anything starts, naming the flag to change', () => {
    expect(usage(['-n', '100000'])).toMatch(/^-n 100000: the 100000 ranks on one node need \d+ bytes .* raise --mem to at least \d+M, spread the ranks over more --nodes, or lower --eager$/);
    expect(usage(['-np', '200', '--nodes', '2'])).toBe('ok');
    // queue pairs are made on first use, one per pair of ranks that talk: no longer counted up front
    expect(usage(['-n', '2000', '--nodes', '4', '--mem', '8G'])).toBe('ok');
    // threads: every rank is a worker thread of this process
    expect(() => checkHostCapacity(1000, { np: '-n' }, 8 * 2 ** 30)).toThrow(/^-n 1000: 1000 ranks in one process need about \d+M of host memory .* at most 256: .*--procs, or mpiexec/);
    expect(() => checkHostCapacity(64, {}, 8 * 2 ** 30)).not.toThrow();
  });

  it('--cost: malformed JSON, an unknown field and a negative value are usage errors naming --cost', () => {
    const file = (name: string, text: string) => {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    };
    expect(usage(['-n', '2', '--cost', file('bad.json', '{bad')])).toMatch(/^--cost \S+bad\.json: .*JSON.* presets: hdr, edr, ndr\)$/);
    expect(usage(['-n', '2', '--cost', file('unk.json', '{"frob": 1}')])).toMatch(/^--cost \S+unk\.json: unknown field "frob"/);
    expect(usage(['-n', '2', '--cost', file('neg.json', '{"latencyUs": -1}')])).toMatch(/^--cost \S+neg\.json: latencyUs must be a finite non-negative number, got -1/);
    expect(usage(['-n', '2'], { TSMPI_COST: file('neg2.json', '{"latencyUs": -1}') })).toMatch(/^TSMPI_COST=\S+neg2\.json: latencyUs/);
    expect(usage(['-n', '2', '--cost', 'nope'])).toMatch(/^--cost nope: neither a preset/);
  });

  it('runJob rejects the same options with the option named by its flag', async () => {
    await expect(runJob({ np: 2, program: hello, memBytes: 1 })).rejects.toThrow(/^--mem 1: memory per node must be/);
    await expect(runJob({ np: 2, program: hello, eagerThreshold: Infinity })).rejects.toThrow(/^--eager unlimited:/);
  });

  it('one size rule for run and bench: --eager 2kb is 2000 bytes in both', () => {
    expect(parseRunArgs(['-n', '1', '--eager', '2kb', 'p.ts']).options.eagerThreshold).toBe(2000);
    expect(parseBytes('2kb', '--eager')).toBe(2000);
    expect(parseSize('2kb', '--eager')).toBe(2000);
    expect(parseRunArgs(['-n', '1', '--eager', '2K', 'p.ts']).options.eagerThreshold).toBe(2048);
    expect(parseSize('2K', '--eager')).toBe(2048);
  });

  it('no seed numbers in the help texts', () => {
    expect(RUN_USAGE).not.toMatch(/seed \d/);
    expect(USAGE).not.toMatch(/seed \d/);
  });
});

describe('the command: rc 64 and one line; --version; a syntax error; a failure printed once', () => {
  it('a usage error is one line on stderr, rc 64, no stack', async () => {
    const r = await tsmpi(['run', '-n', '2', '--mem', '900G', hello]);
    expect(r.code).toBe(64);
    expect(r.stderr).toBe('tsmpi: --mem 900G: memory per node must be 1M to 127G bytes with 4096-byte pages\n');
    const v = await tsmpi(['run', '-n', '2', hello], { TSMPI_FABRIC: 'zz' });
    expect(v.code).toBe(64);
    expect(v.stderr).toBe('tsmpi: TSMPI_FABRIC=zz: unknown adapter; use one of pinning, odp\n');
  });

  it('in a checkout, a dist/ older than the sources is not run (its help would be out of date)', async () => {
    const r = await tsmpi(['run', '--help'], { TSMPI_SOURCE: '' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(RUN_USAGE + '\n');
  });

  it('tsmpi --version prints the package version', async () => {
    const lines: string[] = [];
    const rc = await main(['--version'], { out: (s) => lines.push(s), err: (s) => lines.push(s), env: {} });
    expect(rc).toBe(0);
    expect(lines).toEqual(['tsmpi 0.1.0']);
  });

  it('a TypeScript syntax error is one short message with file:line:col', async () => {
    const prog = join(dir, 'syntax.ts');
    writeFileSync(prog, "import { init } from '@tsmpi/mpi';\nexport function main() {\n  const x: number = ;\n}\n");
    const r = await tsmpi(['run', '-n', '2', prog]);
    expect(r.code).toBe(64);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^tsmpi: \S*syntax\.ts:3:21: Unexpected ";" \(the program does not compile/);
  });

  it('a rank failure prints its message once, then the frames; out of memory names --mem', async () => {
    const prog = join(dir, 'big.ts');
    writeFileSync(prog, "import { init } from '@tsmpi/mpi';\nconst world = init();\nworld.alloc(Uint8Array, 8 << 20).fill(1);\n");
    const r = await tsmpi(['run', '-n', '2', '--mem', '4M', prog]);
    expect(r.code).toBe(1);
    const msg = /OutOfMemory: node out of physical memory/g;
    expect(r.stderr.match(msg)).toHaveLength(1);
    expect(r.stderr).toMatch(/^\s+at /m);
    expect(r.stderr).toMatch(/tsmpi: each node has 4194304 bytes of physical memory: raise --mem \(e\.g\. --mem 16M\)/);
  });
});
