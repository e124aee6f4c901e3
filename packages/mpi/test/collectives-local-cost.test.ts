/**
 * Local work of the collectives on the virtual clock: every local copy is charged as a memcpy
 * of its bytes and every reduction as a memcpy-rate pass over the bytes it reads and writes
 * (3 × the operand), through the one formula the message engine uses for eager copies
 * (`copyUs`). Checked on real ranks (runJob) with the public API only:
 * - one rank: allreduce is a single local copy, so the clock rises by exactly copyUs(bytes);
 * - two ranks on two nodes, large buffers (every message rendezvous, so nothing else depends on
 *   the memcpy rate): the same program under two memcpy rates differs in virtual time by
 *   exactly the difference of the charges the formula predicts, and the results are identical;
 * - eight ranks: the counters (copies, reductions, bytes, µs) match Rabenseifner's textbook
 *   local work, and comm.stats().collectives / the job totals carry them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hdr } from '@tsmpi/fabric';
import { copyUs, reductionBytes, runJob, type JobResult, type RankStats } from '@tsmpi/mpi';

const program = String.raw`
import { SUM, collectiveStats, resetCollectiveStats } from '@tsmpi/mpi';

export function main(world) {
  const n = Number(process.argv[2]);
  const { rank, size } = world;
  const x = world.alloc(Float64Array, n);
  const local = new Float64Array(n);
  for (let i = 0; i < n; i++) local[i] = (rank + 1) * (i % 1000) + 0.25;
  x.set(local);
  const sum = world.alloc(Float64Array, n);
  resetCollectiveStats();
  const t0 = world.wtime() * 1e6;
  world.allreduce(x, sum, SUM);
  const elapsedUs = world.wtime() * 1e6 - t0;
  const coll = collectiveStats();
  const got = sum.toArray();
  let wrong = 0;
  for (let i = 0; i < n; i++) if (got[i] !== (size * (size + 1) / 2) * (i % 1000) + 0.25 * size) wrong++;
  const digest = Buffer.from(got.buffer, got.byteOffset, got.byteLength).toString('base64');
  x.free(); sum.free();
  return { elapsedUs, wrong, digest, coll, stats: world.stats().collectives };
}
`;

interface Out {
  elapsedUs: number;
  wrong: number;
  digest: string;
  coll: { localCopies: number; localCopyBytes: number; reductions: number; reductionBytes: number; localUs: number; algorithms: Record<string, number> };
  stats: RankStats['collectives'];
}

let dir: string;
let file: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsmpi-coll-cost-'));
  file = join(dir, 'allreduce-cost.mjs');
  writeFileSync(file, program);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(np: number, n: number, extra: { nodes?: number; cost?: Record<string, number> } = {}): Promise<{ outs: Out[]; res: JobResult }> {
  const res = await runJob({ np, program: file, args: [String(n)], captureOutput: true, ...extra });
  if (res.exitCode !== 0) throw new Error(`job failed: ${JSON.stringify(res.error, null, 2)}\n${res.ranks.map((r) => r.output).join('')}`);
  return { outs: res.ranks.map((r) => r.value as Out), res };
}

describe('collectives charge local work to the virtual clock', () => {
  it('one rank: allreduce is one local copy and the clock rises by exactly copyUs(bytes)', async () => {
    const n = 1 << 16;
    const { outs } = await run(1, n);
    const o = outs[0]!;
    expect(o.wrong).toBe(0);
    expect(o.coll).toMatchObject({ localCopies: 1, localCopyBytes: 8 * n, reductions: 0, reductionBytes: 0 });
    expect(o.coll.localUs).toBe(copyUs(hdr, 8 * n));
    expect(o.elapsedUs).toBeCloseTo(copyUs(hdr, 8 * n), 9);
    expect(copyUs(hdr, 8 * n)).toBeCloseTo((8 * n) / (hdr.memcpyGBps * 1000), 12); // 52.43 µs at 10 GB/s
  });

  it('two ranks: virtual time differs between two memcpy rates by exactly the charged difference; results unchanged', async () => {
    // 2^18 doubles: the halves Rabenseifner exchanges (1 MiB) are far above the eager threshold, so
    // every message is rendezvous (RDMA read) and no message cost depends on memcpyGBps.
    const n = 1 << 18;
    const slow = { memcpyGBps: 5 };
    const fast = { memcpyGBps: 40 };
    const a = await run(2, n, { nodes: 2, cost: slow });
    const b = await run(2, n, { nodes: 2, cost: fast });
    // Per rank: copy sbuf → rbuf (8n bytes), one reduction of the kept half (operands of 4n bytes).
    const charged = (rate: { memcpyGBps: number }) => copyUs(rate, 8 * n) + copyUs(rate, reductionBytes(4 * n));
    for (let r = 0; r < 2; r++) {
      const [sa, sb] = [a.outs[r]!, b.outs[r]!];
      expect(sa.wrong).toBe(0);
      expect(sa.digest).toBe(sb.digest);
      expect(sa.coll.algorithms).toEqual({ 'allreduce.rabenseifner': 1 });
      expect(sa.coll).toMatchObject({ localCopies: 1, localCopyBytes: 8 * n, reductions: 1, reductionBytes: 12 * n });
      expect(sa.coll.localUs).toBe(charged(slow));
      expect(sb.coll.localUs).toBe(charged(fast));
      expect(sa.elapsedUs - sb.elapsedUs).toBeCloseTo(charged(slow) - charged(fast), 6);
      // Not free: at 5 GB/s the local work alone is 1048.6 µs of the rank's time.
      expect(sa.elapsedUs).toBeGreaterThan(charged(slow));
    }
  });

  it('eight ranks: counters match Rabenseifner\'s local work and reach comm.stats() and the job totals', async () => {
    const n = 1 << 16;
    const { outs, res } = await run(8, n);
    // Reduce-scatter by halving: operands of n/2, n/4, n/8 doubles; one copy of the send buffer.
    const reduced = 8 * (n / 2 + n / 4 + n / 8);
    const expectUs = copyUs(hdr, 8 * n) + copyUs(hdr, reductionBytes(8 * (n / 2))) + copyUs(hdr, reductionBytes(8 * (n / 4))) + copyUs(hdr, reductionBytes(8 * (n / 8)));
    for (const o of outs) {
      expect(o.wrong).toBe(0);
      expect(o.digest).toBe(outs[0]!.digest);
      expect(o.coll).toMatchObject({ localCopies: 1, localCopyBytes: 8 * n, reductions: 3, reductionBytes: 3 * reduced });
      expect(o.coll.localUs).toBe(expectUs);
      expect(o.stats['localUs']).toBe(expectUs);
      expect(o.stats['reductions']).toBe(3);
      expect(o.stats['algorithms.allreduce.rabenseifner']).toBe(1);
      expect(o.elapsedUs).toBeGreaterThan(expectUs);
    }
    // The launcher's per-rank stats and totals carry the collectives' counters (taken at exit).
    for (const r of res.ranks) expect(r.stats!.collectives['reductions']).toBe(3);
    expect(res.totals.collectives['reductions']).toBe(24);
    expect(res.totals.collectives['localCopies']).toBe(8);
    expect(res.totals.collectives['algorithms.allreduce.rabenseifner']).toBe(8);
  });
});
