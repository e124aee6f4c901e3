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
  const latency = records.filter((r) => r.suite === 'latency' && r.pattern === 'reuse');
  const small = latency.find((r) => r.size === 1 && r.rcache !== 'off');
  if (facts) {
    const one = facts.regUs(1);
    lines.push(
      `registration (cost model ${cost}): ${one.toFixed(2)} µs for 1 page, ${facts.regUs(16).toFixed(1)} µs for 16, ` +
        `${facts.regUs(256).toFixed(1)} µs for 256 (affine: fixed part ${(2 * one - facts.regUs(2)).toFixed(1)} µs)` +
        (small ? `; a 1-page registration = ${(one / small.latency_us).toFixed(1)}× the 1-byte latency (${small.latency_us.toFixed(2)} µs)` : ''),
    );
  }
  const cached = (size: number) =>
    latency.filter((r) => r.size === size && r.rcache === 'notifier' && r.fabric === 'pinning' && r.pin_mode === 'pin')[0];
  const ppo = (size: number) => latency.find((r) => r.size === size && r.rcache === 'off' && r.fabric === 'pinning');
  const ratios: string[] = [];
  for (const size of [4096, 65536, 1 << 20]) {
    const b = ppo(size);
    const c = cached(size);
    if (b && c && c.latency_us > 0) ratios.push(`${formatSize(size)} ×${(b.latency_us / c.latency_us).toFixed(2)}`);
  }
  if (ratios.length > 0) lines.push(`pin-per-op ÷ pinning×notifier (latency, reuse): ${ratios.join(', ')}`);
  if (facts) {
    const best = latency.filter((r) => r.rcache !== 'off' && r.stale === 0).sort((a, b) => b.bandwidth_MBps - a.bandwidth_MBps)[0];
    if (best) {
      lines.push(
        `cached bandwidth: ${Math.round(best.bandwidth_MBps)} MB/s at ${formatSize(best.size)} (${best.label}) = ` +
          `${((100 * best.bandwidth_MBps) / facts.linkMBps).toFixed(0)}% of the ${Math.round(facts.linkMBps)} MB/s link`,
      );
    }
  }
  return lines;
}
