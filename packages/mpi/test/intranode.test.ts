/**
 * Issue 7: the MPI semantics hold whichever intra-node transport carries the messages
 * (`--intra shm|cma|xpmem|auto`), and the transport really carried them (its counters, and no
 * registration of user buffers on the single-copy paths).
 */
import { describe, expect, it } from 'vitest';
import { runJob, type IntraKind } from '../src/index.js';

const pt2pt = new URL('./programs/pt2pt.ts', import.meta.url);
const churn = new URL('./programs/intra-churn.ts', import.meta.url);
const allreduce = new URL('../../../examples/allreduce.ts', import.meta.url);
const eager = 12 * 1024;
const KINDS: IntraKind[] = ['shm', 'cma', 'xpmem', 'auto'];

describe.each(KINDS)('--intra %s', (intra) => {
  it('point-to-point: matching, order across protocols, unexpected messages, truncation, probes, objects, bad buffers', async () => {
    const r = await runJob({ np: 3, program: pt2pt, args: [String(eager)], eagerThreshold: eager, intra });
    expect(r.error).toBeUndefined();
    expect(r.exitCode).toBe(0);
    const [r0, r1, r2] = r.ranks.map((x) => x.value as Record<string, any>);
    expect(r0!.anySource).toEqual({ first: [1, 1], second: [2, 2] });
    expect(r0!.order.seen).toEqual(r0!.order.expected);
    expect(r0!.order.bad).toBe(0);
    for (const x of r1!.unexpectedReceiver.results) {
      expect(x.bad).toBe(0);
      expect(x.count).toBe(x.n);
    }
    expect(r1!.truncReceiver.errs.map((e: { messageBytes: number; bufferBytes: number }) => [e.messageBytes, e.bufferBytes]))
      .toEqual([[100, 99], [eager + 1000, eager + 999]]);
    expect(r1!.truncReceiver.after).toBe(77);
    expect(r2!.self.big).toEqual({ source: 2, count: eager * 3, bad: 0 });
    expect(r1!.outstanding.tags).toEqual([71, 70, 69, 68, 67, 66, 65, 64, 63, 62, 61, 60]);
    expect(r1!.outstanding.bad).toBe(0);
    expect(r1!.probe.mdata).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.25]);
    expect(r1!.objects).toMatchObject({ small: { hello: 'world', n: 42, nested: [1, [2, 3]] }, bigOk: true });
    expect(r0!.badArgs.unmappedBuffer.code).toBe('MPI_ERR_BUFFER');
    expect(r0!.badArgs.freedBuffer.code).toBe('MPI_ERR_BUFFER');

    // the transport carried the traffic: no RDMA reads on one node, and only the bounce slab registered
    const t = r.totals.adapter;
    expect(r.totals.messages.rdmaReads).toBe(0);
    expect(t.registrations).toBe(3);
    if (intra === 'shm' || intra === 'auto') expect(t['intra.shmSends']).toBeGreaterThan(0);
    // every rendezvous is read by one single copy, except the one the receiver truncated (never read)
    const reads = r.totals.messages.rendezvousSends! - 1;
    if (intra === 'cma') expect(t['intra.cmaCalls']).toBe(reads);
    if (intra === 'xpmem' || intra === 'auto') {
      expect(t['intra.attachCacheHits']! + t['intra.attachCacheMisses']!).toBe(reads);
      expect(t['intra.xpmemCopies']).toBe(reads);
    }
    if (intra !== 'shm') expect(t['intra.cmaErrors'] ?? 0).toBe(0);
  }, 60_000);

  it('allreduce on 4 ranks over 2 nodes: exact on every rank (intra-node transport inside a node, the network between)', async () => {
    const r = await runJob({ np: 4, nodes: 2, program: allreduce, args: ['20000'], intra, captureOutput: true });
    expect(r.error).toBeUndefined();
    expect(r.exitCode).toBe(0);
    expect(r.ranks[0]!.output).toMatch(/every element exact/);
    expect(r.ranks[0]!.output).toMatch(/bit-identical on every rank/);
  }, 60_000);
});

describe.each(['cma', 'xpmem', 'auto'] as IntraKind[])('--intra %s single copy under churn', (intra) => {
  it('a send buffer freed and allocated again at the same address is read fresh every time', async () => {
    const r = await runJob({ np: 2, program: churn, intra });
    expect(r.error).toBeUndefined();
    expect(r.ranks[0]!.value).toEqual({ sameAddress: true });
    expect(r.ranks[1]!.value).toEqual({ bad: 0 });
    const t = r.totals.adapter;
    if (intra !== 'cma') {
      // one attachment (64 KiB aligned) covers the buffer every round: 1 miss, then hits; the
      // exporter's notifier zapped the attachment's pages at each free
      expect(t['intra.attachCacheMisses']).toBe(1);
      expect(t['intra.attachCacheHits']).toBe(5);
      expect(t['intra.xpmemZappedPages']).toBeGreaterThan(0);
    } else {
      expect(t['intra.cmaCalls']).toBe(6);
    }
  }, 60_000);
});

describe('virtual time does not depend on thread timing', () => {
  it.each(KINDS)('--intra %s: two runs of one program end at the same virtual time on every rank', async (intra) => {
    const runs = [];
    for (let i = 0; i < 2; i++) runs.push(await runJob({ np: 2, program: churn, args: [String(64 * 1024)], intra }));
    for (const r of runs) expect(r.ranks[1]!.value).toEqual({ bad: 0 });
    expect(runs[0]!.ranks.map((x) => x.wtime)).toEqual(runs[1]!.ranks.map((x) => x.wtime));
  }, 60_000);
});
