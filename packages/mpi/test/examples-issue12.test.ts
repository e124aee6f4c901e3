/**
 * examples/pi.ts and examples/halo2d.ts run as their headers say (through runJob, as `tsmpi run`
 * does): the right answer, and the compute / communication / waiting split they print, under
 * measured compute (tsmpi run's default) and none.
 */
import { describe, expect, it } from 'vitest';
import { runJob } from '../src/index.js';

const example = (name: string) => new URL(`../../../examples/${name}`, import.meta.url);

describe('the examples of issue 12', () => {
  it('pi.ts: π to 1e-10 with reduce; measured compute shows the loop, none shows only the modelled communication', async () => {
    for (const compute of ['measured', 'none']) {
      const r = await runJob({ np: 3, program: example('pi.ts'), args: ['300000'], compute, captureOutput: true });
      expect(r.exitCode).toBe(0);
      const out = r.ranks[0]!.output!;
      const error = Number(/error ([\d.e+-]+)/.exec(out)![1]);
      expect(error).toBeLessThan(1e-10);
      const compute0 = Number(/compute ([\d.]+)/.exec(out)![1]);
      if (compute === 'none') expect(compute0).toBe(0);
      else expect(compute0).toBeGreaterThan(0);
    }
  });

  it('halo2d.ts: a 3 × 2 grid of ranks conserves heat and prints every rank\'s split', async () => {
    const r = await runJob({ np: 6, program: example('halo2d.ts'), args: ['48', '20'], compute: 'none', captureOutput: true });
    expect(r.exitCode).toBe(0);
    const out = r.ranks[0]!.output!;
    expect(out).toContain('on a 3 × 2 grid of ranks');
    expect(out).toContain('(conserved)');
    const rows = out.split('\n').filter((l) => /^\s+\d+\s+\(\d,\d\)/.test(l));
    expect(rows).toHaveLength(6);
    // with --compute none the clock is communication and waiting only, and every rank exchanged halos
    for (const row of rows) {
      const [, , , compute, communication] = row.trim().split(/\s+/).map(Number);
      expect(compute).toBe(0);
      expect(communication).toBeGreaterThan(0);
    }
  });
});
