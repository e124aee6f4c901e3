import { describe, expect, it } from 'vitest';
import { runJob } from '../src/index.js';

const prog = (name: string) => new URL(`./programs/${name}.ts`, import.meta.url);

describe('many ranks, many messages', () => {
  it('a flood of small messages among 8 ranks arrives complete and in per-sender order', async () => {
    const count = 150;
    const r = await runJob({ np: 8, program: prog('flood'), args: [String(count)] });
    expect(r.error).toBeUndefined();
    r.ranks.forEach((x, rank) => {
      const v = x.value as { perSource: number[]; outOfOrder: number; tagMismatch: number; eagerSends: number };
      expect(v.perSource).toEqual(Array.from({ length: 8 }, (_, s) => (s === rank ? 0 : count)));
      expect(v.outOfOrder).toBe(0);
      expect(v.tagMismatch).toBe(0);
      expect(v.eagerSends).toBe(count * 7);
    });
    expect(r.totals.messages['eagerSends']).toBe(8 * 7 * count);
    expect(r.totals.messages['bytesReceived']).toBe(8 * 7 * count * 8);
  });

  it('more rendezvous messages in flight both ways than there are bounce slots: all delivered', async () => {
    const n = 200;
    const r = await runJob({ np: 2, program: prog('exchange-many'), args: [String(n)], memlock: Infinity });
    expect(r.error).toBeUndefined();
    for (const x of r.ranks) expect(x.value).toEqual({ bad: 0, rendezvousSends: n, rdmaReads: n });
  });

  it('ranks spread over 2 nodes talk across the modeled network, which costs more virtual time', async () => {
    const cost = { loopbackLatencyUs: 0.1 };
    const one = await runJob({ np: 4, program: new URL('../../../examples/ring.ts', import.meta.url), captureOutput: true, cost });
    const two = await runJob({ np: 4, nodes: 2, program: new URL('../../../examples/ring.ts', import.meta.url), captureOutput: true, cost });
    expect(one.exitCode).toBe(0);
    expect(two.exitCode).toBe(0);
    expect(two.ranks.map((x) => x.node)).toEqual([0, 0, 1, 1]);
    expect(one.ranks.map((x) => x.node)).toEqual([0, 0, 0, 0]);
    expect(two.ranks[0]!.output).toMatch(/token came back to rank 0 carrying 6 \(expected 6\)/);
    expect(two.totals.maxVirtualUs).toBeGreaterThan(one.totals.maxVirtualUs);
  });

  // Deterministic as long as the order of a rank's registration-cache operations is: ping-pong
  // blocks, so it is; the ring's sendrecv matches its receive in progress, at a moment that can
  // come before or after its own send's acquire, so only pin-per-op (no cache state) is exact there.
  it.each([
    ['ping-pong', 'notifier', 2],
    ['ring', 'off', 4],
  ] as const)('virtual time is deterministic: %s with rcache %s twice gives the same clocks', async (name, rcache, np) => {
    const program = new URL(`../../../examples/${name}.ts`, import.meta.url);
    const a = await runJob({ np, program, rcache, captureOutput: true });
    const b = await runJob({ np, program, rcache, captureOutput: true });
    expect(a.exitCode).toBe(0);
    expect(a.ranks.map((x) => x.stats!.virtualUs)).toEqual(b.ranks.map((x) => x.stats!.virtualUs));
    expect(a.ranks[0]!.stats!.virtualUs).toBeGreaterThan(0);
  });
});
