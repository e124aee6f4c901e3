/**
 * Every collective, checked numerically on real ranks (worker threads through runJob, the
 * message engine, the fabric and the registration cache), for 1, 2, 3, 4, 5 and 8 ranks,
 * several element types and sizes that reach every algorithm branch, and several roots.
 *
 * Each rank knows every rank's input (a deterministic function of rank and index), so it
 * checks its own result element by element and returns what went wrong. The test then
 * asserts, across ranks: no wrong element anywhere, bit-identical allreduce results on
 * every rank, the algorithm counters, and the exact number of messages each collective put
 * on the wire, counted twice independently (the collectives' own counter and the message
 * engine's eager + rendezvous send counters).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJob, type JobResult } from '@tsmpi/mpi';

// The rank program, plain JavaScript so any rank can import it without a build step.
const checkProgram = String.raw`
import { SUM, PROD, MIN, MAX, MAXLOC, MINLOC, BAND, collectiveStats, resetCollectiveStats } from '@tsmpi/mpi';

const TYPES = { Float64Array, Float32Array, Int32Array, Uint32Array, Int16Array, Uint8Array, BigInt64Array, BigUint64Array };
const OPS = { SUM, PROD, MIN, MAX };

// Rank r's input: deterministic, different per rank, type and salt; floats are inexact on purpose.
function gen(T, r, n, salt = 0) {
  const a = new T(n);
  for (let i = 0; i < n; i++) {
    if (T === BigInt64Array || T === BigUint64Array) a[i] = BigInt((r * 7 + i * 3 + salt) % 11) * (1n << 40n) + BigInt(i);
    else if (T === Float64Array || T === Float32Array) a[i] = (r + 1) * 0.1 + i * 1e-3 + salt * 0.37;
    else a[i] = ((r * 7 + i * 3 + salt) % 11) + 1;
  }
  return a;
}
function fold(T, p, n, op) {
  const acc = gen(T, 0, n);
  for (let k = 1; k < p; k++) {
    const g = gen(T, k, n);
    for (let i = 0; i < n; i++) {
      if (op === 'SUM') acc[i] += g[i];
      else if (op === 'MAX') acc[i] = acc[i] > g[i] ? acc[i] : g[i];
      else if (op === 'MIN') acc[i] = acc[i] < g[i] ? acc[i] : g[i];
      else acc[i] = T === Int32Array || T === Uint32Array ? Math.imul(acc[i], g[i]) : acc[i] * g[i];
    }
  }
  return acc;
}
function concat(T, blocks) {
  const n = blocks.length ? blocks[0].length : 0;
  const out = new T(n * blocks.length);
  blocks.forEach((b, k) => out.set(b, k * n));
  return out;
}
const hex = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

// Checks every collective on communicator c; returns what went wrong and what was counted.
function check(c, cfg) {
  const world = c;
  const { rank, size: p } = c;
  const wrong = [];
  const bits = {};
  const traffic = {};
  const check = (what, got, want, T) => {
    if (got.length !== want.length) return wrong.push(what + ': ' + got.length + ' elements, want ' + want.length);
    const float = T === Float64Array || T === Float32Array;
    const tol = T === Float32Array ? 1e-5 : 1e-12;
    for (let i = 0; i < want.length; i++) {
      const ok = float ? Math.abs(got[i] - want[i]) <= tol * Math.max(1, Math.abs(want[i])) : got[i] === want[i];
      if (!ok) return wrong.push(what + '[' + i + ']: ' + got[i] + ', want ' + want[i]);
    }
  };
  const str = (v) => JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? x + 'n' : x));
  const same = (what, got, want) => { if (str(got) !== str(want)) wrong.push(what + ': ' + str(got) + ', want ' + str(want)); };
  const sent = () => { const m = c.stats().messages; return m.eagerSends + m.rendezvousSends + m.selfSends; };
  // Messages this rank sent during fn, by the engine's count and by the collectives' own.
  const measure = (key, fn) => {
    const e0 = sent(), c0 = collectiveStats().messages;
    fn();
    traffic[key] = [sent() - e0, collectiveStats().messages - c0];
  };
  const alloc = (T, n, data) => { const b = world.alloc(T, n); if (data) b.set(data); return b; };
  const roots = [...new Set([0, p - 1, p >> 1])];
  resetCollectiveStats();

  measure('barrier', () => world.barrier());

  for (const [tname, sizes] of cfg.cases) {
    const T = TYPES[tname];
    for (const n of sizes) {
      const key = tname + '/' + n;
      for (const root of roots) {
        const at = key + ' root ' + root;
        const b = alloc(T, n, rank === root ? gen(T, 99, n) : undefined);
        measure('bcast ' + at, () => world.bcast(b, root));
        check('bcast ' + at, b.toArray(), gen(T, 99, n), T);
        b.free();

        for (const op of ['SUM', 'MAX']) {
          const s = alloc(T, n, gen(T, rank, n));
          const r = rank === root ? alloc(T, n) : null;
          measure('reduce ' + op + ' ' + at, () => world.reduce(s, r, OPS[op], root));
          if (r) { check('reduce ' + op + ' ' + at, r.toArray(), fold(T, p, n, op), T); r.free(); }
          check('reduce leaves the send buffer alone ' + at, s.toArray(), gen(T, rank, n), T);
          s.free();
        }

        const s = alloc(T, n, gen(T, rank, n));
        const g = rank === root ? alloc(T, n * p) : null;
        measure('gather ' + at, () => world.gather(s, g, root));
        if (g) { check('gather ' + at, g.toArray(), concat(T, Array.from({ length: p }, (_, k) => gen(T, k, n))), T); g.free(); }
        s.free();

        const sc = rank === root ? alloc(T, n * p, concat(T, Array.from({ length: p }, (_, k) => gen(T, k, n, 5)))) : null;
        const r = alloc(T, n);
        measure('scatter ' + at, () => world.scatter(sc, r, root));
        check('scatter ' + at, r.toArray(), gen(T, rank, n, 5), T);
        r.free(); sc?.free();
      }

      for (const op of ['SUM', 'MAX', 'MIN', 'PROD']) {
        if (op === 'PROD' && n > 17) continue;
        const s = alloc(T, n, gen(T, rank, n));
        const r = alloc(T, n);
        measure('allreduce ' + op + ' ' + key, () => world.allreduce(s, r, OPS[op]));
        const got = r.toArray();
        check('allreduce ' + op + ' ' + key, got, fold(T, p, n, op), T);
        bits['allreduce ' + op + ' ' + key] = hex(got);
        s.free(); r.free();
      }

      { const s = alloc(T, n, gen(T, rank, n)); const r = alloc(T, n * p);
        measure('allgather ' + key, () => world.allgather(s, r));
        check('allgather ' + key, r.toArray(), concat(T, Array.from({ length: p }, (_, k) => gen(T, k, n))), T);
        s.free(); r.free(); }

      { const s = alloc(T, n * p, concat(T, Array.from({ length: p }, (_, k) => gen(T, rank * 100 + k, n))));
        const r = alloc(T, n * p);
        measure('alltoall ' + key, () => world.alltoall(s, r));
        check('alltoall ' + key, r.toArray(), concat(T, Array.from({ length: p }, (_, k) => gen(T, k * 100 + rank, n))), T);
        s.free(); r.free(); }
    }
  }

  // In place: allreduce with the same buffer as send and receive.
  { const b = alloc(Float64Array, 300, gen(Float64Array, rank, 300));
    world.allreduce(b, b, SUM);
    check('allreduce in place', b.toArray(), fold(Float64Array, p, 300, 'SUM'), Float64Array);
    b.free(); }

  // MAXLOC / MINLOC over (value, index) pairs: pair 0 peaks at the last rank, pair 1 ties everywhere.
  { const s = alloc(Float64Array, 4, [rank, rank, 7, rank]); const r = alloc(Float64Array, 4);
    world.allreduce(s, r, MAXLOC); check('maxloc', r.toArray(), [p - 1, p - 1, 7, 0], Float64Array);
    world.allreduce(s, r, MINLOC); check('minloc', r.toArray(), [0, 0, 7, 0], Float64Array);
    s.free(); r.free(); }

  // Object forms.
  for (const root of roots) {
    same('bcastObject root ' + root, world.bcastObject(rank === root ? { m: [1, 'two', { three: 3n }] } : null, root), { m: [1, 'two', { three: 3n }] });
    same('gatherObject root ' + root, world.gatherObject({ r: rank }, root), rank === root ? Array.from({ length: p }, (_, k) => ({ r: k })) : undefined);
    same('scatterObject root ' + root, world.scatterObject(rank === root ? Array.from({ length: p }, (_, k) => 'to ' + k) : null, root), 'to ' + rank);
    // Concatenation is not commutative: the result shows the order of evaluation.
    same('reduceObject root ' + root, world.reduceObject(String(rank), (a, b) => a + ',' + b, root),
      rank === root ? Array.from({ length: p }, (_, k) => String(k)).join(',') : undefined);
  }
  same('allgatherObject', world.allgatherObject(rank * rank), Array.from({ length: p }, (_, k) => k * k));
  same('alltoallObject', world.alltoallObject(Array.from({ length: p }, (_, k) => rank + '->' + k)), Array.from({ length: p }, (_, k) => k + '->' + rank));
  same('allreduceObject SUM', world.allreduceObject([rank, 1], SUM), [p * (p - 1) / 2, p]);
  same('allreduceObject fn', world.allreduceObject([rank], (a, b) => a.concat(b)), Array.from({ length: p }, (_, k) => k));

  const stats = collectiveStats();
  return { rank, size: p, wrong, bits, traffic, algorithms: stats.algorithms, temporaries: stats.temporaries };
}

const heapInUse = (c) => { const h = c.heap.stats; return h.inUseChunks + h.mmappedChunks; };

// 8 ranks check the world, then split into groups of 1, 2 and 5 and check each group at the same
// time, then into 3, 4 and 1. The split keys reverse the order, so a group rank is never the
// world rank and the twin's rank mapping is exercised.
export function main(world) {
  const cfg = JSON.parse(process.argv[2]);
  const reports = [];
  const heapBefore = heapInUse(world);

  // A user's wildcard receive, posted before any collective, must not match collective traffic.
  const inbox = world.alloc(Int32Array, 1);
  const pending = world.irecv(inbox, -1, -1);

  reports.push(check(world, cfg));
  for (const groups of cfg.splits) {
    let color = 0;
    for (let edge = 0, g = 0; g < groups.length; edge += groups[g], g++) if (world.rank >= edge) color = g;
    const sub = world.split(color, -world.rank);
    reports.push(check(sub, cfg));
  }

  // Now the message the wildcard receive was waiting for.
  const note = world.alloc(Int32Array, 1);
  note.set([1000 + world.rank]);
  const right = (world.rank + 1) % world.size;
  const left = (world.rank - 1 + world.size) % world.size;
  const status = (world.send(note, right, 77), pending.wait());
  const wildcard = { source: status.source, tag: status.tag, value: inbox.toArray()[0], want: [left, 77, 1000 + left] };
  note.free(); inbox.free();

  // Argument errors every rank detects before sending anything.
  const errors = {};
  const expectError = (name, fn) => { try { fn(); errors[name] = 'no error'; } catch (e) { errors[name] = e.code + ': ' + e.message; } };
  const f = world.alloc(Float64Array, 4), g = world.alloc(Float64Array, 3), i32 = world.alloc(Int32Array, 4);
  expectError('bcast root out of range', () => world.bcast(f, world.size));
  expectError('allreduce count mismatch', () => world.allreduce(f, g, SUM));
  expectError('allreduce type mismatch', () => world.allreduce(f, i32, SUM));
  expectError('BAND on doubles', () => world.allreduce(f, f, BAND));
  expectError('MAXLOC on an odd count', () => world.allreduce(g, g, MAXLOC));
  expectError('alltoall not divisible by size', () => world.alltoall(g, g));
  f.free(); g.free(); i32.free();
  world.barrier();

  return { reports, wildcard, errors, heapLeak: heapInUse(world) - heapBefore };
}
`;

let dir: string;
let program: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsmpi-coll-'));
  program = join(dir, 'check-collectives.mjs');
  writeFileSync(program, checkProgram);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface RankReport {
  rank: number;
  size: number;
  wrong: string[];
  bits: Record<string, string>;
  traffic: Record<string, [number, number]>;
  algorithms: Record<string, number>;
  temporaries: number;
}
interface ProgramResult {
  reports: RankReport[];
  wildcard: { source: number; tag: number; value: number; want: [number, number, number] };
  errors: Record<string, string>;
  heapLeak: number;
}

// One job of 8 ranks covers 8 (world), then 1, 2, 5 (first split), then 3, 4 (second split).
const SPLITS = [[1, 2, 5], [3, 4, 1]];
let results: ProgramResult[];
const bySize = new Map<number, RankReport[]>();

beforeAll(async () => {
  const res: JobResult = await runJob({ np: 8, program, args: [JSON.stringify({ cases: CASES, splits: SPLITS })], captureOutput: true });
  if (res.exitCode !== 0) throw new Error(`job failed: ${JSON.stringify(res.error, null, 2)}\n${res.ranks.map((r) => r.output).join('')}`);
  results = res.ranks.map((r) => r.value as ProgramResult);
  for (const r of results) {
    for (const rep of r.reports) {
      const list = bySize.get(rep.size) ?? [];
      if (!list.some((x) => x.rank === rep.rank)) list[rep.rank] = rep; // the second size-1 group repeats the first
      bySize.set(rep.size, list);
    }
  }
});

/** Total messages of one collective call over all ranks, asserting the two independent counts agree. */
function total(reports: RankReport[], key: string): number {
  let engine = 0;
  let ours = 0;
  for (const r of reports) {
    const t = r.traffic[key];
    if (!t) throw new Error(`no traffic recorded for ${key}`);
    engine += t[0];
    ours += t[1];
  }
  expect(ours, `collective counter vs engine for ${key}`).toBe(engine);
  return engine;
}

const log2 = (p: number) => Math.ceil(Math.log2(p));
const pof2Below = (p: number) => 2 ** Math.floor(Math.log2(p));

// Sizes: 0 (nothing moves), 1 and 7 (fewer elements than ranks: empty blocks), 300 doubles
// (2400 B: allreduce's Rabenseifner path), 2000 doubles (16000 B: bcast's scatter + ring
// allgather at 8 ranks, gather/scatter's linear path).
const CASES: [string, number[]][] = [
  ['Float64Array', [0, 1, 7, 300, 2000]],
  ['Int32Array', [7, 300]],
  ['BigInt64Array', [7, 300]],
  ['Float32Array', [7]],
  ['Uint8Array', [7]],
];

describe.each([1, 2, 3, 4, 5, 8])('every collective on %i ranks', (p) => {
  let reports: RankReport[];
  beforeAll(() => {
    reports = bySize.get(p)!;
    expect(reports.length).toBe(p);
    expect(reports.every((r) => r !== undefined)).toBe(true);
  });

  it('delivers the right values everywhere', () => {
    expect(reports.flatMap((r, rank) => r.wrong.map((w) => `rank ${rank}: ${w}`))).toEqual([]);
  });

  it('gives every rank bit-identical allreduce results', () => {
    for (const key of Object.keys(reports[0]!.bits)) {
      expect(new Set(reports.map((r) => r.bits[key])).size, key).toBe(1);
    }
  });

  it('puts exactly the textbook number of messages on the wire', () => {
    const rem = p - pof2Below(p);
    const pof2 = pof2Below(p);
    const lg = Math.log2(pof2);
    expect(total(reports, 'barrier')).toBe(p === 1 ? 0 : p * log2(p));
    for (const root of new Set([0, p - 1, p >> 1])) {
      // Binomial trees: one message per non-root rank.
      expect(total(reports, `bcast Float64Array/7 root ${root}`)).toBe(p - 1);
      expect(total(reports, `reduce SUM Float64Array/300 root ${root}`)).toBe(p - 1);
      expect(total(reports, `gather Int32Array/7 root ${root}`)).toBe(p - 1);
      expect(total(reports, `scatter Int32Array/7 root ${root}`)).toBe(p - 1);
      expect(total(reports, `gather Float64Array/2000 root ${root}`)).toBe(p - 1);
      // van de Geijn at 8 ranks: p - 1 scatter messages, then p(p - 1) ring steps.
      expect(total(reports, `bcast Float64Array/2000 root ${root}`)).toBe(p >= 8 ? p - 1 + p * (p - 1) : p - 1);
      expect(total(reports, `bcast Float64Array/0 root ${root}`)).toBe(0);
    }
    // Fold/unfold of the non-power-of-two ranks, then log2(pof2) exchanges per survivor (×2 for Rabenseifner).
    expect(total(reports, 'allreduce SUM Float64Array/7')).toBe(p === 1 ? 0 : 2 * rem + pof2 * lg);
    expect(total(reports, 'allreduce SUM Float64Array/300')).toBe(p === 1 ? 0 : 2 * rem + 2 * pof2 * lg);
    const isPof2 = (p & (p - 1)) === 0;
    expect(total(reports, 'allgather Float64Array/300')).toBe(isPof2 ? p * Math.log2(p) : p * (p - 1));
    expect(total(reports, 'alltoall Int32Array/300')).toBe(p * (p - 1));
    expect(total(reports, 'alltoall Float64Array/0')).toBe(0);
  });

  it('counts each algorithm branch it took', () => {
    const a = reports[0]!.algorithms;
    if (p === 1) {
      expect(a['barrier.trivial']).toBe(1);
      expect(a['allreduce.recursiveDoubling'] ?? 0).toBe(0);
      return;
    }
    expect(a['barrier.dissemination']).toBe(1);
    const roots = new Set([0, p - 1, p >> 1]).size;
    // bcast with 2000 doubles, one per root, goes long only from 8 ranks on.
    expect(a['bcast.scatterAllgather'] ?? 0).toBe(p >= 8 ? roots : 0);
    // gather/scatter of 2000 doubles per rank are linear; one call per root.
    expect(a['gather.linear']).toBe(roots);
    expect(a['scatter.linear']).toBe(roots);
    // Rabenseifner from 2 KiB: Float64 × {300, 2000} and BigInt64 × 300 (Int32 × 300 is 1200 B),
    // 3 ops each (PROD is skipped above 17 elements), plus the in-place call.
    expect(a['allreduce.rabenseifner']).toBe(3 + 3 + 3 + 1);
    // 10 non-empty (type, size) cases; the ring unless p is a power of two.
    expect(a['allgather.recursiveDoubling'] ?? 0).toBe((p & (p - 1)) === 0 ? 10 : 0);
    expect(a['allgather.ring'] ?? 0).toBe((p & (p - 1)) === 0 ? 0 : 10);
    expect(a['alltoall.pairwise']).toBe(10);
  });
});

describe('around the collectives', () => {
  it('a wildcard receive posted before them still gets the user message, not collective traffic', () => {
    for (const r of results) expect([r.wildcard.source, r.wildcard.tag, r.wildcard.value]).toEqual(r.wildcard.want);
  });

  it('every temporary is given back to the heap', () => {
    expect(results.map((r) => r.heapLeak)).toEqual(new Array(8).fill(0));
    // ... and there were temporaries to give back (reductions and non-zero-root trees use them).
    expect(results[0]!.reports[0]!.temporaries).toBeGreaterThan(0);
  });

  it('rejects bad arguments with typed errors that say what to pass', () => {
    const e = results[0]!.errors;
    expect(e['bcast root out of range']).toMatch(/^MPI_ERR_ARG: .*root 8 is not a rank/);
    expect(e['allreduce count mismatch']).toMatch(/^MPI_ERR_BUFFER: .*holds 3 elements but 4 are needed/);
    expect(e['allreduce type mismatch']).toMatch(/^MPI_ERR_TYPE: .*Float64Array.*Int32Array/);
    expect(e['BAND on doubles']).toMatch(/^MPI_ERR_TYPE: BAND is defined for integer buffers only/);
    expect(e['MAXLOC on an odd count']).toMatch(/^MPI_ERR_BUFFER: .*even count/);
    expect(e['alltoall not divisible by size']).toMatch(/^MPI_ERR_BUFFER: .*not a multiple of the 8 ranks/);
    for (const r of results.slice(1)) expect(Object.keys(r.errors)).toEqual(Object.keys(e));
  });
});

// The same checks with nearly every message on the rendezvous path (eager threshold 64 B), on
// the ODP adapter, across 2 simulated nodes: collective traffic takes the RDMA-read protocol,
// the registration cache and the network between nodes.
// TSMPI_COLL_ALLREDUCE_LONG_BYTES=0 (inherited by every rank) moves allreduce to Rabenseifner at
// every size with at least as many items as the power of two below p.
describe('every collective on 5 ranks over 2 nodes, ODP adapter, rendezvous from 64 B', () => {
  let odp: ProgramResult[];
  beforeAll(async () => {
    const cases: [string, number[]][] = [['Float64Array', [7, 300, 2000]], ['BigInt64Array', [7]]];
    process.env.TSMPI_COLL_ALLREDUCE_LONG_BYTES = '0';
    let res: JobResult;
    try {
      res = await runJob({
        np: 5, nodes: 2, fabric: 'odp', eagerThreshold: 64, program,
        args: [JSON.stringify({ cases, splits: [] })], captureOutput: true,
      });
    } finally {
      delete process.env.TSMPI_COLL_ALLREDUCE_LONG_BYTES;
    }
    if (res.exitCode !== 0) throw new Error(`job failed: ${JSON.stringify(res.error, null, 2)}`);
    odp = res.ranks.map((r) => r.value as ProgramResult);
    // The rendezvous path really carried collective traffic.
    expect(res.totals.messages.rendezvousSends).toBeGreaterThan(0);
    expect(res.totals.messages.rdmaReads).toBe(res.totals.messages.rendezvousSends);
  });

  it('delivers the right values, bit-identical allreduce results, and frees its temporaries', () => {
    expect(odp.flatMap((r) => r.reports[0]!.wrong)).toEqual([]);
    for (const key of Object.keys(odp[0]!.reports[0]!.bits)) {
      expect(new Set(odp.map((r) => r.reports[0]!.bits[key])).size, key).toBe(1);
    }
    expect(odp.map((r) => r.heapLeak)).toEqual([0, 0, 0, 0, 0]);
    for (const r of odp) expect([r.wildcard.source, r.wildcard.tag, r.wildcard.value]).toEqual(r.wildcard.want);
  });

  it('takes the switch point from the environment', () => {
    // Float64 × 7 (4 ops), × 300 and × 2000 (3 ops each, no PROD), BigInt64 × 7 (4 ops), the in-place call;
    // MAXLOC/MINLOC have 2 pairs, fewer than 4 survivors, so they stay on recursive doubling.
    const a = odp[0]!.reports[0]!.algorithms;
    expect(a['allreduce.rabenseifner']).toBe(4 + 3 + 3 + 4 + 1);
    expect(a['allreduce.recursiveDoubling']).toBe(2);
  });
});
