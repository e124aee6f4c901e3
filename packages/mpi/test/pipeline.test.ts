/**
 * Issue 14: the pipelined rendezvous moves messages of any size within the default 8 MiB locked-memory
 * limit — 1, 6, 16 and 64 MiB buffers and a 10 MB object, every registration policy, both adapters,
 * under --rndv auto (the default) and pipeline: every byte checked, each rank's memlock high-water
 * mark within the limit. --rndv whole still fails a 16 MiB message with MPI_ERR_NO_MEM (the limit is real).
 */
import { describe, expect, it } from 'vitest';
import { RCACHE_POLICIES, runJob, type JobOptions } from '../src/index.js';
import { landingPieces } from '../src/p2p/protocols/rendezvous-pipeline.js';

const program = new URL('./programs/pipeline.ts', import.meta.url);
const MiB = 1 << 20;
const LIMIT = 8 * MiB;

async function run(bytes: number, opts: Partial<JobOptions>, object = false) {
  return runJob({ np: 2, nodes: 2, program, args: [String(bytes), object ? 'object' : ''], memBytes: 512 * MiB, deadlockMs: 5000, ...opts });
}

function expectDelivered(r: Awaited<ReturnType<typeof run>>, object: boolean): void {
  expect(r.error).toBeUndefined();
  expect(r.exitCode).toBe(0);
  const v = r.ranks[1]!.value as { badBytes: number; object?: boolean };
  expect(v.badBytes).toBe(0);
  if (object) expect(v.object).toBe(true);
  for (const rank of r.ranks) {
    const { highWater, limit } = rank.value as { highWater: number; limit: number };
    expect(limit).toBe(LIMIT);
    expect(highWater).toBeLessThanOrEqual(LIMIT);
  }
}

describe.each(['pinning', 'odp'] as const)('pipelined rendezvous under 8 MiB memlock, %s adapter', (fabric) => {
  describe.each(RCACHE_POLICIES)('rcache %s', (rcache) => {
    it.each([1, 6, 16])('%i MiB by --rndv auto and pipeline: every byte arrives', async (mib) => {
      for (const rndv of ['auto', 'pipeline']) expectDelivered(await run(mib * MiB, { fabric, rcache, rndv }), false);
    }, 120_000);

    it('64 MiB and a 10 MB object (auto)', async () => {
      const r = await run(64 * MiB, { fabric, rcache }, true);
      expectDelivered(r, true);
      // pinning: the 64 MiB went in chunks, at most PIPELINE_DEPTH (4) of 1 MiB held by the sender at once
      if (fabric === 'pinning') expect(r.ranks[0]!.stats!.rcache.registrations).toBeGreaterThanOrEqual(64);
    }, 240_000);
  });
});

describe('landing pieces', () => {
  it('cut an unaligned range into a head page, an aligned middle and a tail page', () => {
    expect(landingPieces(100, 10_000, 4096)).toEqual([[100, 4096], [4096, 8192], [8192, 10_000]]);
    expect(landingPieces(0, 8192, 4096)).toEqual([[0, 8192]]);
    expect(landingPieces(100, 200, 4096)).toEqual([[100, 200]]);
    expect(landingPieces(4096, 5000, 4096)).toEqual([[4096, 5000]]);
  });
});

describe('--rndv whole keeps the old behaviour', () => {
  it('a 16 MiB send under 8 MiB memlock fails with MPI_ERR_NO_MEM', async () => {
    const r = await run(16 * MiB, { rndv: 'whole' });
    expect(r.exitCode).toBe(1);
    expect(r.error!.code).toBe('MPI_ERR_NO_MEM');
  }, 60_000);

  it('pipeline:256K moves 6 MiB in 24 or 25 page-aligned chunks, each read in at most 3 pieces', async () => {
    const r = await run(6 * MiB, { rndv: 'pipeline:256K', rcache: 'off' });
    expectDelivered(r, false);
    // the sender cuts chunks at its page boundaries (a first chunk short of 256K when the buffer is not aligned)
    const chunks = r.ranks[0]!.stats!.rcache.registrations;
    expect([24, 25]).toContain(chunks);
    // the receiver registers head, middle and tail of each landing chunk on its own pages
    const reads = r.ranks[1]!.stats!.messages.rdmaReads;
    expect(reads).toBeGreaterThanOrEqual(chunks);
    expect(reads).toBeLessThanOrEqual(3 * chunks);
    expect(r.ranks[1]!.stats!.rcache.registrations).toBe(reads);
    // at most 4 chunks of 256K held by the sender: the high-water mark is the bounce slab plus ~1 MiB
    const hw = (r.ranks[0]!.value as { highWater: number }).highWater;
    expect(hw).toBeLessThan(LIMIT / 2);
  }, 60_000);
});
