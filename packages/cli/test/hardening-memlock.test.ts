import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'packages/cli/bin/tsmpi.js');
const dir = mkdtempSync(join(tmpdir(), 'tsmpi-memlock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tsmpi(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, TSMPI_SOURCE: '1' }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('a 10 MB sendObject through the locked-memory limit (issue 15 item 9)', () => {
  const prog = join(dir, 'big-object.ts');
  writeFileSync(prog, [
    "import { init } from '@tsmpi/mpi';",
    'const world = init();',
    "const big = 'x'.repeat(10 * 1024 * 1024);",
    'if (world.rank === 0) world.sendObject({ big }, 1, 0);',
    'else console.log(`got ${world.recvObject<{ big: string }>(0, 0).big.length}`);',
  ].join('\n'));

  it('registered whole, it fails naming the object message and --memlock, not "the send buffer"', async () => {
    const r = await tsmpi(['run', '-n', '2', '--rndv', 'whole', prog]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/rank 0 failed: MemlockExhausted: registering the 1048577\d-byte object message \(sendObject's packed value\) failed/);
    expect(r.stderr).toMatch(/tsmpi run --memlock 64M.* or send the object in smaller parts/);
    expect(r.stderr).not.toMatch(/send buffer|large buffers in flight/);
  });

  it('with more locked memory the same object arrives whole', async () => {
    const r = await tsmpi(['run', '-n', '2', '--rndv', 'whole', '--memlock', '64M', prog]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('got 10485760\n');
    expect(r.code).toBe(0);
  });
});
