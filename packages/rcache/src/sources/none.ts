import type { DrainedReports, InvalidationSource } from './source.js';

const NOTHING: DrainedReports = Object.freeze({ cookies: Object.freeze([]) as readonly number[], overflowed: false, batches: 0 });

/**
 * The source that is never told: the historical stale-registration bug, kept on purpose so the benchmark can
 * show what it costs. It skips the self-test (it would fail by design).
 */
export function noneSource(): InvalidationSource {
  return {
    kind: 'none',
    probe: () => undefined,
    watch: () => 1,
    unwatch: () => {},
    pending: () => false,
    drain: () => NOTHING,
    queued: 0,
    close: () => {},
  };
}
