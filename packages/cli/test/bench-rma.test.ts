import { describe, expect, it } from 'vitest';
import { presets } from '@tsmpi/fabric';
import { RMA_CONFIGS, osuFiles, rmaCommand, rmaTables, runRmaConfig } from '../src/bench/rma.js';
import type { RmaSpec } from '../src/bench/rma-spec.js';

const KiB = 1024;
const cfg = (id: string) => RMA_CONFIGS.find((c) => c.id === id)!;

describe('tsmpi bench rma', () => {
  // 256 KiB is above the mmap threshold: free + malloc gives the same address on new frames
  const spec: RmaSpec = { suites: ['put_latency', 'fop_latency', 'dynamic'], syncs: ['fence', 'lock'], sizes: [256 * KiB], iterations: 4, window: 4 };

  it('the dynamic pattern is stale only behind a pinning adapter whose cache nobody tells; every access verified', async () => {
    const none = await runRmaConfig(cfg('pinning-none'), spec, presets.hdr);
    const notifier = await runRmaConfig(cfg('pinning-notifier'), spec, presets.hdr);
    const dyn = (cs: typeof none) => cs.find((c) => c.suite === 'dynamic')!;
    // iterations 1-3 put into the old frames; the target sees its zeroed new buffer
    expect(dyn(none).staleBytes).toBe(3 * 256 * KiB);
    expect(dyn(notifier).staleBytes).toBe(0);
    for (const c of [...none, ...notifier].filter((x) => x.suite !== 'dynamic')) expect(c.staleBytes).toBe(0);
    // a fetch-and-op costs about an 8-byte RDMA read plus the epoch, far below a 256 KiB put
    const fop = notifier.find((c) => c.suite === 'fop_latency' && c.sync === 'lock')!;
    const put = notifier.find((c) => c.suite === 'put_latency' && c.sync === 'lock')!;
    expect(fop.value).toBeLessThan(put.value);
    expect(rmaTables([...none, ...notifier])).toMatch(/dynamic \(fence\)[\s\S]*STALE 786432/);
    const files = osuFiles(notifier);
    expect(files.map(([n]) => n)).toContain('osu_put_latency_lock_pinning-notifier.txt');
    expect(files.find(([n]) => n.startsWith('osu_put_latency_fence'))![1]).toMatch(/^# OSU MPI_Put Latency Test[\s\S]*# Synchronization: MPI_Win_fence\n# Size {6}Latency \(us\)\n262144 /);
  }, 120_000);

  it('refuses an unknown suite with usage status 64 and says which suites exist', async () => {
    const err: string[] = [];
    const status = await rmaCommand(['--suites', 'put_latency,bogus'], { out: () => {}, err: (s: string) => err.push(s) } as never);
    expect(status).toBe(64);
    expect(err.join('')).toMatch(/unknown bogus; choose from put_latency/);
  });
});
