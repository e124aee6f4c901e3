/**
 * Computation on the virtual clock (src/compute.ts): --compute measured charges the wall time a
 * rank spends between runtime calls, none charges nothing, comm.compute(s) charges exactly s, and
 * the stats split the clock into compute, communication and waiting.
 */
import { describe, expect, it } from 'vitest';
import { UsageError, formatCompute, parseCompute, runJob } from '../src/index.js';

type Seen = {
  loopVirtualUs: number; wallLoopUs: number; computeDeltaUs: number; clockDeltaUs: number;
  split: { computeUs: number; communicationUs: number; waitingUs: number }; virtualUs: number;
};

const run = async (compute?: string) => {
  const r = await runJob({ np: 2, program: new URL('./programs/compute.ts', import.meta.url), ...(compute ? { compute } : {}) });
  expect(r.error).toBeUndefined();
  return r.ranks.map((x) => x.value as Seen);
};

describe('compute on the virtual clock', () => {
  it('none (runJob\'s default) leaves wtime() untouched by the program\'s own work; compute(s) adds exactly s', async () => {
    for (const seen of await run()) {
      expect(seen.loopVirtualUs).toBe(0);
      expect(seen.computeDeltaUs).toBe(2500);
      expect(seen.clockDeltaUs).toBeCloseTo(2500, 6);
      expect(seen.split.computeUs).toBe(2500);
      expect(seen.split.computeUs + seen.split.communicationUs + seen.split.waitingUs).toBeCloseTo(seen.virtualUs, 6);
      expect(seen.split.communicationUs).toBeGreaterThan(0);
    }
  });

  it('measured grows wtime() by at least the busy loop\'s wall time (× factor), and counts it as compute', async () => {
    for (const seen of await run('measured')) {
      expect(seen.loopVirtualUs).toBeGreaterThanOrEqual(seen.wallLoopUs * 0.99);
      expect(seen.computeDeltaUs).toBeGreaterThanOrEqual(2500);
      expect(seen.split.computeUs).toBeGreaterThanOrEqual(seen.wallLoopUs);
      expect(seen.split.computeUs + seen.split.communicationUs + seen.split.waitingUs).toBeCloseTo(seen.virtualUs, 6);
    }
    for (const seen of await run('measured:3')) expect(seen.loopVirtualUs).toBeGreaterThanOrEqual(3 * seen.wallLoopUs * 0.99);
  });

  it('parses measured, measured:FACTOR and none, and says what to write otherwise', () => {
    expect(parseCompute('none')).toEqual({ kind: 'none' });
    expect(parseCompute('measured')).toEqual({ kind: 'measured', factor: 1 });
    expect(parseCompute('measured:0.5')).toEqual({ kind: 'measured', factor: 0.5 });
    expect(formatCompute(parseCompute('measured:2'))).toBe('measured:2');
    for (const bad of ['fast', 'measured:0', 'measured:-1', 'measured:x', '']) expect(() => parseCompute(bad)).toThrow(UsageError);
    expect(() => parseCompute('fast')).toThrow(/measured:FACTOR/);
  });
});
