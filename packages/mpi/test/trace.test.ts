/**
 * `--trace` (issue 17): the file is Chrome trace-event JSON (a traceEvents array, the fields each
 * phase needs), ping-pong's messages appear one to one with a flow from each send to its receive,
 * registrations and cache events are there, a bounded buffer says what it dropped, and tracing
 * leaves the run's virtual clocks and counters exactly as they are without it.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runJob, type ChromeTrace, type JobResult, type MessageEnd, type TraceEvent } from '@tsmpi/mpi';

const example = (name: string) => new URL(`../../../examples/${name}.ts`, import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'tsmpi-trace-'));
const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as ChromeTrace;

/** The fields the trace-event format requires of each phase this runtime writes. */
function checkFormat(t: ChromeTrace): void {
  expect(Array.isArray(t.traceEvents)).toBe(true);
  for (const e of t.traceEvents as (TraceEvent & Record<string, unknown>)[]) {
    expect(typeof e.name, JSON.stringify(e)).toBe('string');
    expect(Number.isInteger(e.pid) && Number.isInteger(e.tid), JSON.stringify(e)).toBe(true);
    expect(Number.isFinite(e.ts) && e.ts >= 0, JSON.stringify(e)).toBe(true);
    switch (e.ph) {
      case 'X': expect(Number.isFinite(e.dur) && (e.dur as number) >= 0, JSON.stringify(e)).toBe(true); expect(typeof e.cat).toBe('string'); break;
      case 'i': expect(e.s).toBe('t'); break;
      case 'C': expect(Object.values(e.args ?? {}).every((v) => typeof v === 'number'), JSON.stringify(e)).toBe(true); break;
      case 's': case 'f': expect(Number.isInteger(e.id)).toBe(true); expect(e.cat).toBe('message'); break;
      case 'M': expect(typeof e.args).toBe('object'); break;
      default: throw new Error(`unexpected phase ${String((e as { ph: unknown }).ph)}`);
    }
  }
}

const ofPhase = (t: ChromeTrace, ph: string) => t.traceEvents.filter((e) => e.ph === ph);
const sendsOf = (t: ChromeTrace, rank: number) =>
  ofPhase(t, 'X').filter((e) => e.tid === rank).flatMap((e) => (e.args?.sends as MessageEnd[] | undefined) ?? []);
const recvsOf = (t: ChromeTrace, rank: number) =>
  ofPhase(t, 'X').filter((e) => e.tid === rank).flatMap((e) => (e.args?.recvs as MessageEnd[] | undefined) ?? []);

function outcome(r: JobResult) {
  expect(r.exitCode, r.error?.message).toBe(0);
  return r.ranks.map((x) => ({ virtualUs: x.stats!.virtualUs, rcache: x.stats!.rcache, adapter: x.stats!.adapter, output: x.output }));
}

describe('trace of examples/ping-pong.ts', () => {
  it('is valid trace-event JSON whose messages match the run one to one, each send flowing to its receive', async () => {
    const file = join(dir, 'ping-pong.json');
    const r = await runJob({ np: 2, nodes: 2, rcache: 'off', program: example('ping-pong'), captureOutput: true, trace: file });
    expect(r.exitCode, r.error?.message).toBe(0);
    const t = read(file);
    checkFormat(t);
    // 10 sizes (8 B .. 2 MiB, ×4), 22 round trips each, two messages per round trip
    const messages = 10 * 22 * 2;
    expect(r.trace).toEqual({ file, events: t.traceEvents.length, dropped: 0, flows: messages });
    expect(t.otherData).toMatchObject({ tool: 'tsmpi', clock: 'virtual', ranks: 2, dropped: 0, flows: messages, unpairedSends: 0, unpairedRecvs: 0 });
    for (const rank of [0, 1]) {
      const m = r.ranks[rank]!.stats!.messages;
      expect(sendsOf(t, rank)).toHaveLength(m.eagerSends + m.rendezvousSends);
      expect(recvsOf(t, rank)).toHaveLength(messages / 2);
      expect(sendsOf(t, rank).every((s) => s.peer === 1 - rank)).toBe(true);
      expect(recvsOf(t, rank).reduce((n, v) => n + v.bytes, 0)).toBe(m.bytesReceived);
    }
    // names: a process per node, a thread per rank
    const names = ofPhase(t, 'M').filter((e) => e.name === 'thread_name' || e.name === 'process_name').map((e) => `${e.name}:${e.pid}:${e.tid}:${String(e.args!.name)}`);
    expect(names.sort()).toEqual(['process_name:0:0:node 0', 'process_name:1:0:node 1', 'thread_name:0:0:rank 0', 'thread_name:1:1:rank 1']);
    // flows pair: every id starts once on the sender and finishes once on the other rank, not before it started
    const starts = new Map(ofPhase(t, 's').map((e) => [(e as { id: number }).id, e]));
    const finishes = ofPhase(t, 'f');
    expect(starts.size).toBe(messages);
    expect(finishes).toHaveLength(messages);
    for (const f of finishes) {
      const s = starts.get((f as { id: number }).id)!;
      expect(s.tid).toBe(1 - f.tid);
      expect(f.ts).toBeGreaterThanOrEqual(s.ts);
      // each end lies inside a call of its rank (the slice it binds to)
      for (const end of [s, f]) {
        expect(ofPhase(t, 'X').some((x) => x.tid === end.tid && x.cat === 'p2p' && x.ts <= end.ts && end.ts <= x.ts + (x as { dur: number }).dur)).toBe(true);
      }
    }
    // the calls: blocking send and recv, with peer, tag, bytes and the protocol of each send
    const calls = ofPhase(t, 'X').filter((e) => e.cat === 'p2p');
    expect(calls.filter((e) => e.name === 'send')).toHaveLength(messages);
    expect(calls.filter((e) => e.name === 'recv')).toHaveLength(messages);
    const big = calls.find((e) => e.name === 'send' && e.args!.bytes === 2 * 1024 * 1024)!;
    expect(big.args).toMatchObject({ peer: expect.any(Number), tag: expect.any(Number), protocol: expect.stringMatching(/^rendezvous/) });
    expect(calls.find((e) => e.name === 'send' && e.args!.bytes === 8)!.args!.protocol).toBe('eager');
    // pin-per-op: every rendezvous buffer is registered and deregistered on both sides, with counter tracks
    const rendezvousPerRank = 4 * 22 * 2; // 32 KiB .. 2 MiB are rendezvous (at or above 12 KiB): the send and the receive buffer
    for (const rank of [0, 1]) {
      const regs = ofPhase(t, 'X').filter((e) => e.tid === rank && e.name === 'register');
      expect(regs).toHaveLength(r.ranks[rank]!.stats!.rcache.registrations!);
      expect(regs.length).toBe(rendezvousPerRank);
      expect(ofPhase(t, 'X').filter((e) => e.tid === rank && e.name === 'deregister')).toHaveLength(rendezvousPerRank);
      expect(regs.every((e) => (e as { dur: number }).dur > 0)).toBe(true);
    }
    const tracks = new Set(ofPhase(t, 'C').map((e) => Object.keys(e.args!)[0]));
    expect([...tracks].sort()).toEqual(['cached regions', 'pinned pages', 'registered bytes']);
  }, 120_000);

  it('leaves clocks, counters and output as they are without tracing; the wall clock is optional', async () => {
    const base = { np: 2, nodes: 2, rcache: 'notifier' as const, program: example('ping-pong'), captureOutput: true };
    const plain = outcome(await runJob(base));
    const traced = await runJob({ ...base, trace: { file: join(dir, 'wall.json'), clock: 'wall' } });
    expect(outcome(traced)).toEqual(plain);
    const t = read(join(dir, 'wall.json'));
    checkFormat(t);
    expect(t.otherData.clock).toBe('wall');
    // the notifier cache: registered once per buffer, then hits
    expect(ofPhase(t, 'i').some((e) => e.name === 'cache hit')).toBe(true);
    expect(ofPhase(t, 'i').some((e) => e.name === 'cache miss')).toBe(true);
  }, 120_000);
});

describe('registration events', () => {
  it('name each invalidation with its source and cause, and count ODP faults as the adapter does', async () => {
    const file = join(dir, 'stale.json');
    const r = await runJob({ np: 2, nodes: 2, fabric: 'pinning', rcache: 'notifier', program: example('stale-registration'), captureOutput: true, trace: file });
    expect(r.exitCode, r.error?.message).toBe(0);
    const t = read(file);
    checkFormat(t);
    const inval = ofPhase(t, 'i').filter((e) => e.name === 'invalidation');
    const counted = r.ranks.reduce((n, x) => n + x.stats!.rcache.invalidations!, 0);
    expect(counted).toBeGreaterThan(0);
    expect(inval).toHaveLength(counted);
    for (const e of inval) expect(e.args).toMatchObject({ source: 'notifier', cause: expect.stringMatching(/^munmap|^brk|^mremap|^madvise/) });

    const odpFile = join(dir, 'odp.json');
    const o = await runJob({ np: 2, nodes: 2, fabric: 'odp', rcache: 'notifier', program: example('ping-pong'), captureOutput: true, trace: odpFile });
    expect(o.exitCode, o.error?.message).toBe(0);
    const faults = ofPhase(read(odpFile), 'i').filter((e) => e.name === 'ODP fault').reduce((n, e) => n + (e.args!.faults as number), 0);
    expect(faults).toBeGreaterThan(0);
    expect(faults).toBeLessThanOrEqual(o.ranks.reduce((n, x) => n + x.stats!.adapter.odpFaults!, 0));
  }, 120_000);
});

describe('intra-node copies', () => {
  it('mark every single-copy rendezvous between ranks of one node', async () => {
    const file = join(dir, 'cma.json');
    const r = await runJob({ np: 2, nodes: 1, intra: 'cma', program: example('ping-pong'), captureOutput: true, trace: file });
    expect(r.exitCode, r.error?.message).toBe(0);
    const t = read(file);
    const copies = ofPhase(t, 'i').filter((e) => e.name === 'intra-node copy');
    const rendezvous = r.ranks.reduce((n, x) => n + x.stats!.messages.rendezvousSends, 0);
    expect(rendezvous).toBeGreaterThan(0);
    expect(copies).toHaveLength(rendezvous);
    expect(copies.every((e) => e.args!.transport === 'rendezvousCma' && (e.args!.bytes as number) >= 12 * 1024)).toBe(true);
  }, 60_000);
});

describe('a bounded trace buffer', () => {
  it('keeps the first events and says how many it dropped', async () => {
    const file = join(dir, 'bounded.json');
    const r = await runJob({ np: 2, program: example('ping-pong'), captureOutput: true, trace: { file, maxEvents: 50 } });
    expect(r.exitCode, r.error?.message).toBe(0);
    const t = read(file);
    checkFormat(t);
    expect(r.trace!.dropped).toBeGreaterThan(0);
    expect(t.otherData.dropped).toBe(r.trace!.dropped);
    for (const rank of [0, 1]) {
      const end = ofPhase(t, 'M').find((e) => e.name === 'tsmpi_rank_end' && e.tid === rank)!;
      expect(t.traceEvents.filter((e) => e.tid === rank && e.ph !== 'M' && e.ph !== 's' && e.ph !== 'f')).toHaveLength(50);
      expect(end.args!.dropped).toBeGreaterThan(0);
    }
  }, 60_000);

  it('rejects a bad option with a usage error naming it', async () => {
    await expect(runJob({ np: 2, program: example('ping-pong'), trace: { file: join(dir, 'x.json'), clock: 'cpu' as never } })).rejects.toThrow(/--trace-clock cpu/);
    await expect(runJob({ np: 2, program: example('ping-pong'), trace: { file: join(dir, 'x.json'), maxEvents: 0 } })).rejects.toThrow(/maxEvents/);
  });
});
