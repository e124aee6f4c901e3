import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { optionsFromEnv, parseBytes, resolveOptions } from '../src/options.js';

describe('options', () => {
  it('reads sizes the way ulimit and mpirun users write them', () => {
    expect(parseBytes('4096', 'x')).toBe(4096);
    expect(parseBytes('12K', 'x')).toBe(12 * 1024);
    expect(parseBytes('12KiB', 'x')).toBe(12 * 1024);
    expect(parseBytes('1m', 'x')).toBe(1024 * 1024);
    expect(parseBytes('2kb', 'x')).toBe(2000);
    expect(parseBytes('unlimited', 'x')).toBe(Infinity);
    expect(() => parseBytes('12 parsecs', '--eager')).toThrow(/--eager: cannot read '12 parsecs'/);
  });

  it('takes TSMPI_* variables', () => {
    const o = optionsFromEnv({ TSMPI_NP: '4', TSMPI_FABRIC: 'odp', TSMPI_RCACHE: 'none', TSMPI_EAGER: '1K', TSMPI_STATS: '1', TSMPI_MEMLOCK: 'unlimited' });
    expect(o).toEqual({ np: 4, fabric: 'odp', rcache: 'none', eagerThreshold: 1024, stats: true, memlock: Infinity });
    expect(() => optionsFromEnv({ TSMPI_FABRIC: 'tcp' })).toThrow(UsageError);
  });

  it('fills defaults and rejects impossible layouts with a hint', () => {
    const o = resolveOptions(2, {});
    expect(o).toMatchObject({ nodes: 1, fabric: 'pinning', rcache: 'notifier', eagerThreshold: 12 * 1024, cost: 'hdr' });
    expect(() => resolveOptions(2, { nodes: 3 })).toThrow(/at most -n nodes/);
    expect(() => resolveOptions(0, {})).toThrow(UsageError);
  });
});
