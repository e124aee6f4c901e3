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

  it('ranks spread over 2 nodes talk across the modeled network: same results, the wire latency instead of loopback', async () => {
    const cost = { loopbackLatencyUs: 0.1 }; // the wire stays at hdr's 0.6 µs
    const ring = await runJob({ np: 4, nodes: 2, program: new URL('../../../examples/ring.ts', import.meta.url), captureOutput: true, cost });
    expect(ring.exitCode).toBe(0);
    expect(ring.ranks.map((x) => x.node)).toEqual([0, 0, 1, 1]);
    expect(ring.ranks[0]!.output).toMatch(/token came back to rank 0 carrying 6 \(expected 6\)/);

    const pingPong = new URL('../../../examples/ping-pong.ts', import.meta.url);
    const oneWay8 = (out: string) => Number(/^\s+8\s+([\d.]+)/m.exec(out)![1]);
    const near = await runJob({ np: 2, nodes: 1, program: pingPong, captureOutput: true, cost });
    const far = await runJob({ np: 2, nodes: 2, program: pingPong, captureOutput: true, cost });
    expect(far.ranks.map((x) => x.node)).toEqual([0, 1]);
    // a small message pays the latency once per hop: 0.6 - 0.1 µs more per one-way trip
    expect(oneWay8(far.ranks[0]!.output!) - oneWay8(near.ranks[0]!.output!)).toBeCloseTo(0.5, 3);
  });

  // Deterministic as long as no two transfers compete, in an order decided by thread timing, for the
  // same resource: a rank's registration cache (ping-pong blocks, so its cache operations come in a
  // fixed order) or an adapter port (the ring on 4 nodes gives every transfer ports of its own).
  it.each([
    ['ping-pong', 'notifier', 2, 1],
    ['ring', 'off', 4, 4],
  ] as const)('virtual time is deterministic: %s with rcache %s twice gives the same clocks', async (name, rcache, np, nodes) => {
    const program = new URL(`../../../examples/${name}.ts`, import.meta.url);
    const a = await runJob({ np, nodes, program, rcache, captureOutput: true });
    const b = await runJob({ np, nodes, program, rcache, captureOutput: true });
    expect(a.exitCode).toBe(0);
    expect(a.ranks.map((x) => x.stats!.virtualUs)).toEqual(b.ranks.map((x) => x.stats!.virtualUs));
    expect(a.ranks[0]!.stats!.virtualUs).toBeGreaterThan(0);
  });
});
