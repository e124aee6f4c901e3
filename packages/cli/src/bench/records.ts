/**
 * From the ranks' accounts of a job to the JSON records: one per size.
 *
 * Virtual figures follow OSU's definitions: latency is half of rank 0's round trip; bw is rank 0's
 * window bytes over its elapsed time; bibw counts both directions; allreduce averages the ranks.
 * Counts (messages, stale, registrations, ...) are summed over both ranks.
 */
import type { Configuration } from './configs.js';
import { isSafe } from './configs.js';
import type { JobSpec, RankSizeResult } from './job.js';
import { formatPattern } from './patterns.js';
import type { BenchRecord } from './record.js';

export function recordsOfJob(spec: JobSpec, config: Configuration, cost: string, perRank: RankSizeResult[][]): BenchRecord[] {
  const rank0 = perRank[0];
  if (!rank0) throw new RangeError(`job ${spec.name} returned no rank results`);
  return spec.steps.map((step, k) => {
    const cells = perRank.map((rs) => rs[k]!);
    const r0 = rank0[k]!;
    const sum = (f: (r: RankSizeResult) => number): number => cells.reduce((a, r) => a + f(r), 0);
    const timed = step.iterations;
    let latencyUs: number;
    let bandwidth: number;
    switch (spec.suite) {
      case 'latency':
        latencyUs = r0.elapsedUs / (2 * timed);
        bandwidth = step.size / latencyUs;
        break;
      case 'bw':
        latencyUs = r0.elapsedUs / (timed * step.window);
        bandwidth = (step.size * step.window * timed) / r0.elapsedUs;
        break;
      case 'bibw':
        latencyUs = r0.elapsedUs / (timed * step.window);
        bandwidth = (2 * step.size * step.window * timed) / r0.elapsedUs;
        break;
      case 'allreduce':
        latencyUs = sum((r) => r.elapsedUs) / cells.length / timed;
        bandwidth = step.size / latencyUs;
        break;
    }
    const messages = sum((r) => r.messages);
    const hits = sum((r) => r.hits);
    const misses = sum((r) => r.misses);
    const registrations = sum((r) => r.registrations);
    const wallMs = Math.max(...cells.map((r) => r.wallMs));
    const rec: BenchRecord = {
      suite: spec.suite,
      config: config.id,
      label: config.label,
      fabric: config.fabric,
      rcache: config.rcache,
      pin_mode: config.pinMode,
      pattern: formatPattern(spec.pattern),
      cost,
      size: step.size,
      iterations: step.iterations,
      warmup: step.warmup,
      latency_us: finite(latencyUs),
      bandwidth_MBps: finite(bandwidth),
      messages,
      stale: sum((r) => r.stale),
      stale_bytes: sum((r) => r.staleBytes),
      hits,
      misses,
      registrations,
      invalidations: sum((r) => r.invalidations),
      registrations_per_message: messages > 0 ? registrations / messages : 0,
      hit_rate: hits + misses > 0 ? hits / (hits + misses) : 0,
      safe: isSafe(config, spec.pattern),
      wall_ms: wallMs,
      msgs_per_s: wallMs > 0 ? messages / (wallMs / 1000) : 0,
    };
    return rec;
  });
}

/** A zero-time cell (nothing timed) would give Infinity; JSON cannot carry it, the schema forbids it. */
function finite(x: number): number {
  return Number.isFinite(x) ? x : 0;
}
