import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  InvalidArgument, VirtualClock, costModel, deregistrationCost, edr, gapPerByteUs, hdr, loadCostModel, ndr, presets,
  registrationCost, rnrDeliveryTime, transferTimes,
} from '@tsmpi/fabric';

describe('cost model', () => {
  it('has the three presets with the DESIGN.md figures and is plain JSON', () => {
    expect(Object.keys(presets)).toEqual(['edr', 'hdr', 'ndr']);
    expect([edr.bandwidthGBps, hdr.bandwidthGBps, ndr.bandwidthGBps]).toEqual([12.5, 23, 47]);
    expect(hdr.latencyUs).toBe(0.6);
    expect(hdr.overheadUs).toBe(0.3);
    expect([hdr.regBaseUs, hdr.regPerPageUs, hdr.deregBaseUs, hdr.deregPerPageUs]).toEqual([16, 0.25, 4, 0.06]);
    expect(hdr.odpFaultUs).toBe(2000);
    expect(hdr.memlockLimitBytes).toBe(8 * 1024 * 1024);
    expect(JSON.parse(JSON.stringify(hdr))).toEqual(hdr);
  });

  it('overrides any field and refuses unknown fields and bad values', () => {
    const m = costModel('ndr', { odpFaultUs: 500 });
    expect(m.odpFaultUs).toBe(500);
    expect(m.bandwidthGBps).toBe(47);
    expect(m.name).toBe('ndr+custom');
    expect(() => costModel('hdr', { odpFaultMs: 1 } as never)).toThrow(/unknown field "odpFaultMs"/);
    expect(() => costModel('hdr', { latencyUs: -1 })).toThrow(InvalidArgument);
    expect(() => costModel('hdr', { bandwidthGBps: 0 })).toThrow(/positive/);
    expect(() => costModel('qdr' as never)).toThrow(/unknown preset "qdr"/);
  });

  it('loads a JSON file naming a preset', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fabric-cost-'));
    const file = join(dir, 'cost.json');
    writeFileSync(file, JSON.stringify({ preset: 'edr', regPerPageUs: 0.7 }));
    const m = loadCostModel(file);
    expect(m.bandwidthGBps).toBe(12.5);
    expect(m.regPerPageUs).toBe(0.7);
    writeFileSync(file, '{ not json');
    expect(() => loadCostModel(file)).toThrow(/cost model file/);
  });
});

describe('LogGP formulas', () => {
  it('prices a 4 KiB send on HDR as o + L + n·G, and its completion one L later', () => {
    const n = 4096;
    const G = 1 / 23000;
    expect(gapPerByteUs(hdr, false)).toBeCloseTo(G, 15);
    const t = transferTimes(hdr, 'send', n, 10, false);
    expect(t.posted).toBeCloseTo(10.3, 12);
    expect(t.arrive).toBeCloseTo(10 + 0.3 + 0.6 + n * G, 12);
    expect(t.complete).toBeCloseTo(t.arrive + 0.6, 12);
  });

  it('prices an RDMA read as a round trip plus the data', () => {
    const t = transferTimes(hdr, 'read', 1 << 20, 0, false);
    expect(t.complete).toBeCloseTo(0.3 + 2 * 0.6 + (1 << 20) / 23000, 9);
  });

  it('uses the loopback figures for same-node traffic only when set', () => {
    expect(transferTimes(hdr, 'write', 0, 0, true).arrive).toBeCloseTo(0.9, 12);
    const lb = costModel('hdr', { loopbackLatencyUs: 0.1, loopbackBandwidthGBps: 100 });
    expect(transferTimes(lb, 'write', 100_000, 0, true).arrive).toBeCloseTo(0.3 + 0.1 + 1, 9);
    expect(transferTimes(lb, 'write', 100_000, 0, false).arrive).toBeCloseTo(0.3 + 0.6 + 100_000 / 23000, 9);
  });

  it('prices registration affine in pages, with a large fixed part', () => {
    expect(registrationCost(hdr, 'pinning', 1)).toBeCloseTo(16.25, 12);
    expect(registrationCost(hdr, 'pinning', 256)).toBeCloseTo(16 + 64, 12);
    expect(registrationCost(hdr, 'odp', 256)).toBeCloseTo(16 + 2.56, 12);
    expect(deregistrationCost(hdr, 'pinning', 100)).toBeCloseTo(10, 12);
    // a 4 KiB registration costs more than 10 small-message latencies (DESIGN.md "published shapes")
    expect(registrationCost(hdr, 'pinning', 1)).toBeGreaterThan(10 * transferTimes(hdr, 'send', 8, 0, false).arrive);
  });

  it('delays a send that found no receive by one RNR timer after the receive is posted', () => {
    expect(rnrDeliveryTime(hdr, 5, 3)).toBe(5);
    expect(rnrDeliveryTime(hdr, 5, 9)).toBe(9 + hdr.rnrTimerUs);
  });
});

describe('VirtualClock', () => {
  it('advances, never goes back, and is shared through its handle', () => {
    const c = new VirtualClock();
    expect(c.advance(1.5)).toBe(1.5);
    expect(c.advanceTo(1)).toBe(1.5);
    expect(c.advanceTo(4)).toBe(4);
    const other = VirtualClock.attach(c.handle);
    other.advance(1);
    expect(c.now).toBe(5);
    expect(() => c.advance(-1)).toThrow(InvalidArgument);
    expect(() => c.advanceTo(Number.NaN)).toThrow(InvalidArgument);
  });
});
