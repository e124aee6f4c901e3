/**
 * The published shapes a faithful run reproduces (DESIGN.md, "Cost model defaults"), checked on
 * the study's own records and the cost model it ran on, so a reader sees each claim next to the
 * number that supports or contradicts it. Nothing here changes a figure; it only reads them.
 */
import { presets, registrationCost, deregistrationCost } from '@tsmpi/fabric';
import type { BenchRecord } from '../record.js';
import { formatSize } from '../sizes.js';

export interface LinkFacts {
  /** Link bandwidth of the preset, MB/s (bytes per µs). */
  linkMBps: number;
  regUs: (pages: number) => number;
  deregUs: (pages: number) => number;
}

export function linkFacts(cost: string): LinkFacts | undefined {
  const model = (presets as Record<string, (typeof presets)[keyof typeof presets] | undefined>)[cost];
  if (!model) return undefined;
  return {
    linkMBps: model.bandwidthGBps * 1000,
    regUs: (pages) => registrationCost(model, 'pinning', pages),
    deregUs: (pages) => deregistrationCost(model, 'pinning', pages),
  };
}

/** Lines of the "shapes" section: registration cost, pin-per-op ÷ cached at 4K/64K/1M, bandwidth vs link. */
export function shapeLines(records: readonly BenchRecord[], cost: string): string[] {
  const facts = linkFacts(cost);
  const lines: string[] = [];
  const small = records.find((r) => r.suite === 'latency' && r.pattern === 'reuse' && r.size === 1 && r.rcache === 'off');
  if (facts) {
    const one = facts.regUs(1);
    lines.push(
      `registration (cost model ${cost}): ${one.toFixed(2)} µs for 1 page, ${facts.regUs(16).toFixed(1)} µs for 16, ` +
        `${facts.regUs(256).toFixed(1)} µs for 256 (affine: fixed part ${(2 * one - facts.regUs(2)).toFixed(1)} µs)` +
        (small ? `; a 1-page registration = ${(one / small.latency_us).toFixed(1)}× the 1-byte latency (${small.latency_us.toFixed(2)} µs)` : ''),
    );
  }
  for (const suite of ['latency', 'bw', 'bibw'] as const) {
    const reuse = records.filter((r) => r.suite === suite && r.pattern === 'reuse' && r.fabric === 'pinning' && r.pin_mode === 'pin');
    const at = (size: number, rcache: BenchRecord['rcache']) => reuse.find((r) => r.size === size && r.rcache === rcache);
    const ratios: string[] = [];
    for (const size of [4096, 16384, 65536, 1 << 20]) {
      const b = at(size, 'off');
      const c = at(size, 'notifier');
      if (b && c && c.latency_us > 0) ratios.push(`${formatSize(size)} ×${(b.latency_us / c.latency_us).toFixed(2)}`);
    }
    if (ratios.length > 0) lines.push(`pin-per-op ÷ pinning×notifier (${suite}, reuse): ${ratios.join(', ')}`);
    if (facts) {
      const best = records
        .filter((r) => r.suite === suite && r.rcache !== 'off' && r.safe && r.stale === 0)
        .sort((a, b) => b.bandwidth_MBps - a.bandwidth_MBps)[0];
      if (best) {
        const one = suite === 'bibw' ? best.bandwidth_MBps / 2 : best.bandwidth_MBps;
        lines.push(
          `cached bandwidth (${suite}): ${Math.round(best.bandwidth_MBps)} MB/s at ${formatSize(best.size)} (${best.label}, ${best.pattern}) = ` +
            `${((100 * one) / facts.linkMBps).toFixed(0)}% of the ${Math.round(facts.linkMBps)} MB/s link${suite === 'bibw' ? ' per direction' : ''}`,
        );
      }
    }
  }
  return lines;
}
