import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runJob } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tsmpi-launcher-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A program outside the repository, with a relative TypeScript import of its own.
writeFileSync(join(dir, 'helper.ts'), 'export const twice = (x: number): number => 2 * x;\n');
writeFileSync(
  join(dir, 'prog.ts'),
  [
    "import { init } from '@tsmpi/mpi';",
    "import { twice } from './helper.ts';",
    'const w = init();',
    'export function main() {',
    '  const b = w.alloc(Int32Array, 1);',
    '  if (w.rank === 0) { b.set([twice(21)]); w.send(b, 1, 3); return { sent: true, argv: process.argv.slice(2) }; }',
    '  w.recv(b, 0, 3);',
    '  return { got: b.toArray()[0], argv: process.argv.slice(2), path: process.argv[1] };',
    '}',
  ].join('\n'),
);

describe('launcher', () => {
  it.each([
    ['bundled (default)', undefined],
    ['through tsx hooks in every worker (TSMPI_NO_BUNDLE=1)', '1'],
  ])('runs a program from outside the repository %s', async (_name, noBundle) => {
    const saved = process.env.TSMPI_NO_BUNDLE;
    if (noBundle) process.env.TSMPI_NO_BUNDLE = noBundle;
    else delete process.env.TSMPI_NO_BUNDLE;
    try {
      const r = await runJob({ np: 2, program: join(dir, 'prog.ts'), args: ['x', 'y'] });
      expect(r.error).toBeUndefined();
      expect(r.ranks[0]!.value).toEqual({ sent: true, argv: ['x', 'y'] });
      expect(r.ranks[1]!.value).toEqual({ got: 42, argv: ['x', 'y'], path: join(dir, 'prog.ts') });
    } finally {
      if (saved === undefined) delete process.env.TSMPI_NO_BUNDLE;
      else process.env.TSMPI_NO_BUNDLE = saved;
    }
  });
});
