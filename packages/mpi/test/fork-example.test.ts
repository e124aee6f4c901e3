/**
 * Issue 14: examples/fork-after-register.ts as its header runs it. Under pinning × a cache that does
 * not hear the copy-on-write fault (hooks) × the legacy fork policy, rank 1 receives an earlier
 * round's bytes; with --fork-safe (MADV_DONTFORK on every registered range), with the copy-pinned
 * policy, with the notifier, and on ODP every round is correct.
 */
import { describe, expect, it } from 'vitest';
import { runJob, type JobOptions } from '../src/index.js';

const program = new URL('../../../examples/fork-after-register.ts', import.meta.url);

async function rank1(policy: string, opts: Partial<JobOptions>): Promise<{ staleBytes: number; staleRounds: number[] }> {
  const r = await runJob({ np: 2, program, args: [policy], captureOutput: true, ...opts });
  expect(r.error).toBeUndefined();
  expect(r.exitCode).toBe(0);
  return r.ranks[1]!.value as { staleBytes: number; staleRounds: number[] };
}

describe('fork after register', () => {
  it('is stale under pinning × hooks × legacy fork without DONTFORK: every round after the first fork', async () => {
    const v = await rank1('legacy', { fabric: 'pinning', rcache: 'hooks' });
    expect(v.staleRounds).toEqual([1, 2, 3]);
    expect(v.staleBytes).toBe(3 * 256 * 1024);
  }, 60_000);

  it.each<[string, string, Partial<JobOptions>]>([
    ['with --fork-safe (DONTFORK)', 'legacy', { fabric: 'pinning', rcache: 'hooks', forkSafe: true }],
    ['under the copy-pinned policy', 'copy-pinned', { fabric: 'pinning', rcache: 'hooks' }],
    ['with the notifier', 'legacy', { fabric: 'pinning', rcache: 'notifier' }],
    ['on ODP', 'legacy', { fabric: 'odp', rcache: 'hooks' }],
  ])('is correct %s', async (_what, policy, opts) => {
    const v = await rank1(policy, opts);
    expect(v.staleRounds).toEqual([]);
    expect(v.staleBytes).toBe(0);
  }, 60_000);
});
