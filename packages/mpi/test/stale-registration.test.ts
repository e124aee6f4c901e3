import { describe, expect, it } from 'vitest';
import { runJob } from '../src/index.js';

const program = new URL('../../../examples/stale-registration.ts', import.meta.url);
const rounds = 4;
const bytes = 256 * 1024;

interface Receiver { staleBytes: number; staleRounds: number[]; totalBytes: number }

async function run(fabric: 'pinning' | 'odp', rcache: 'off' | 'none' | 'hooks' | 'notifier') {
  const r = await runJob({ np: 2, program, fabric, rcache, captureOutput: true });
  expect(r.error).toBeUndefined();
  expect((r.ranks[0]!.value as { sameAddress: boolean }).sameAddress).toBe(true);
  return { r, v: r.ranks[1]!.value as Receiver, sender: r.ranks[0]!.stats! };
}

describe('stale registrations, from an ordinary program (free + malloc between large sends)', () => {
  it('pinning with a cache nobody tells: rounds 1-3 deliver the previous round\'s bytes', async () => {
    const { r, v, sender } = await run('pinning', 'none');
    expect(v.staleRounds).toEqual([1, 2, 3]);
    expect(v.staleBytes).toBe(3 * bytes);
    // the sender registered once and hit the stale region three times
    expect(sender.rcache['misses']).toBe(1);
    expect(sender.rcache['hitsFast']! + sender.rcache['hitsSlow']!).toBe(rounds - 1);
    expect(sender.rcache['invalidations']).toBe(0);
    expect(r.ranks[1]!.output).toMatch(/STALE DATA — 786432 of 1048576 bytes/);
  });

  it('pinning with the notifier cache: every byte right, one invalidation per free', async () => {
    const { v, sender } = await run('pinning', 'notifier');
    expect(v.staleBytes).toBe(0);
    expect(sender.rcache['invalidations']).toBe(rounds - 1);
    expect(sender.rcache['misses']).toBe(rounds);
  });

  it('pinning with malloc hooks: the allocator\'s munmap is seen, every byte right', async () => {
    const { v, sender } = await run('pinning', 'hooks');
    expect(v.staleBytes).toBe(0);
    expect(sender.rcache['invalidations']).toBe(rounds - 1);
  });

  it('pin-per-op (off): every byte right, one registration per send', async () => {
    const { v, sender } = await run('pinning', 'off');
    expect(v.staleBytes).toBe(0);
    expect(sender.rcache['uncached']).toBe(rounds);
  });

  it('odp with a deaf cache: the adapter re-faults the new frames, every byte right', async () => {
    const { v, sender } = await run('odp', 'none');
    expect(v.staleBytes).toBe(0);
    expect(sender.rcache['invalidations']).toBe(0);
    expect(sender.adapter['odpFaults']).toBeGreaterThanOrEqual(rounds);
  });

  const knobs = new URL('./programs/rcache-knobs.ts', import.meta.url);

  it('pinMode mlock: a migration moves the registered pages; hooks miss it (stale), the notifier does not', async () => {
    const run = (rcache: 'hooks' | 'notifier') =>
      runJob({ np: 2, program: knobs, args: ['migrate'], fabric: 'pinning', pinMode: 'mlock', rcache });
    const hooks = await run('hooks');
    const notifier = await run('notifier');
    expect(hooks.error).toBeUndefined();
    expect(notifier.error).toBeUndefined();
    // rounds 1-3 each follow a migration: hooks keep the old snapshot, the receiver reads old frames
    expect((hooks.ranks[1]!.value as { stale: number }).stale).toBe(3 * bytes);
    expect((hooks.ranks[0]!.value as Record<string, number>)['invalidations']).toBe(0);
    expect((notifier.ranks[1]!.value as { stale: number }).stale).toBe(0);
    expect((notifier.ranks[0]!.value as Record<string, number>)['invalidations']).toBe(3);
  });

  it('rcacheMaxRegions 1: two alternating buffers evict each other at every round', async () => {
    const limited = await runJob({ np: 2, program: knobs, args: ['rotate'], rcacheMaxRegions: 1 });
    const unlimited = await runJob({ np: 2, program: knobs, args: ['rotate'] });
    const l = limited.ranks[0]!.value as Record<string, number>;
    const u = unlimited.ranks[0]!.value as Record<string, number>;
    expect(l['misses']).toBe(rounds);
    expect(l['evictions']).toBe(rounds - 1);
    expect(u['misses']).toBe(2);
    expect(u['evictions']).toBe(0);
    expect((limited.ranks[1]!.value as { stale: number }).stale).toBe(0);
  });
});
