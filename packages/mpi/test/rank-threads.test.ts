// What a rank thread is started with, and the check that keeps a job inside the kernel's mapping limit.
import { describe, expect, it } from 'vitest';
import { MAPPINGS_PER_RANK, checkMappingBudget, withoutModulePreloads } from '../src/launcher/rank-threads.js';
import { UsageError } from '../src/errors.js';

describe('rank threads', () => {
  it("drop the launcher's module preloads (tsx's) and keep its other flags", () => {
    const tsx = ['--require', '/x/tsx/dist/preflight.cjs', '--import', 'file:///x/tsx/dist/loader.mjs'];
    expect(withoutModulePreloads([...tsx, '--conditions=source', '--enable-source-maps'])).toEqual(['--conditions=source', '--enable-source-maps']);
    expect(withoutModulePreloads(['-r', 'a.cjs', '--loader=x.mjs', '--experimental-loader', 'y.mjs', '--import=z.mjs', '--stack-trace-limit=50']))
      .toEqual(['--stack-trace-limit=50']);
  });

  it('refuse a job past vm.max_map_count before starting any thread, saying how many ranks fit', () => {
    const maps = (n: number) => Array.from({ length: n }, (_, i) => `${i} rw-p`).join('\n') + '\n';
    const proc = (limit: number, inUse: number) => (path: string) => (path.endsWith('max_map_count') ? `${limit}\n` : maps(inUse));
    expect(() => checkMappingBudget(1024, proc(65530, 400))).not.toThrow(); // 1024 × 60 + 400 = 61840
    let err: unknown;
    try {
      checkMappingBudget(1100, proc(65530, 400));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    const fits = Math.floor((65530 - 400) / MAPPINGS_PER_RANK);
    expect((err as Error).message).toContain(`Run at most ${fits} ranks`);
    expect((err as Error).message).toContain('vm.max_map_count');
    // not Linux (no /proc): nothing to check
    expect(() => checkMappingBudget(1e6, () => undefined)).not.toThrow();
  });
});
