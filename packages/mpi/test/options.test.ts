import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { nodeOfRank, ranksOfNode } from '../src/launcher/placement.js';
import { optionsFromEnv, parseBytes, resolveOptions } from '../src/options.js';
import { ENVELOPE_BYTES, Kind, decodeEnvelope, encodeEnvelope } from '../src/p2p/envelope.js';

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

describe('placement', () => {
  it('spreads ranks over nodes in blocks, the first nodes taking the remainder', () => {
    expect([0, 1, 2, 3, 4].map((r) => nodeOfRank(r, 5, 2))).toEqual([0, 0, 0, 1, 1]);
    expect(ranksOfNode(2, 8, 3)).toEqual([6, 7]);
    expect([0, 1, 2, 3].map((r) => nodeOfRank(r, 4, 4))).toEqual([0, 1, 2, 3]);
  });
});

describe('envelope', () => {
  it('round-trips every field, including a 2^31+ address', () => {
    const b = new Uint8Array(ENVELOPE_BYTES);
    const e = { kind: Kind.RTS, flags: 1, from: 63, context: 5, source: 7, tag: 0x3fffffff, length: 1 << 24, seq: 0xfffffffe, sendId: 123, rkey: 0xdeadbeef, addr: 2 ** 31 + 4096 } as const;
    encodeEnvelope(e, b);
    expect(decodeEnvelope(b)).toEqual(e);
  });
});
