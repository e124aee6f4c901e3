/**
 * Virtual time does not depend on thread timing: the same program with the same flags gives the same
 * clocks, counters and bytes in every run, whatever the machine does meanwhile (issue: deterministic
 * virtual time). Real delays are injected into the ranks (busy loops of random length) and a worker
 * keeps a core busy; the only fields allowed to differ are the wall-clock ones named in
 * WALL_CLOCK_FIELDS (the README names the same).
 */
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runJob, type JobResult } from '@tsmpi/mpi';

/** Counters that measure the host, not the simulated machine (how often a rank slept): the README names them. */
const WALL_CLOCK_FIELDS = new Set(['blockingWaits']);

const program = new URL('./programs/determinism.ts', import.meta.url);
const example = (name: string) => new URL(`../../../examples/${name}.ts`, import.meta.url);

/** Everything a run computed, wall-clock fields aside. */
function outcome(r: JobResult) {
  expect(r.exitCode, r.error?.message).toBe(0);
  return r.ranks.map((x) => ({
    value: x.value,
    output: x.output,
    virtualUs: x.stats!.virtualUs,
    messages: Object.fromEntries(Object.entries(x.stats!.messages).filter(([k]) => !WALL_CLOCK_FIELDS.has(k))),
    rcache: x.stats!.rcache,
    adapter: x.stats!.adapter,
    collectives: x.stats!.collectives,
  }));
}

/** A worker that keeps one core busy until terminated. */
function burnCore(): Worker {
  return new Worker('const end = Date.now() + 120000; while (Date.now() < end);', { eval: true });
}

describe('deterministic virtual time', () => {
  it("the README's promise names exactly the counters these tests let differ", () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Exact virtual time'), readme.indexOf('\n## ', readme.indexOf('## Exact virtual time') + 5));
    expect(section).toMatch(/every rank's final `wtime\(\)`, every\s+delivered byte, every stale count and every counter are identical run after run/);
    const mayDiffer = /may\s+differ:([\s\S]*?)\.\n\n/.exec(section)?.[1] ?? '';
    const counters = [...mayDiffer.matchAll(/`messages\.(\w+)`/g)].map((m) => m[1]);
    expect(new Set(counters)).toEqual(WALL_CLOCK_FIELDS);
  });

  it.each([1, 2] as const)('examples/ring.ts on 4 ranks over %i node(s): five runs, one outcome', async (nodes) => {
    const runs: ReturnType<typeof outcome>[] = [];
    for (let i = 0; i < 5; i++) runs.push(outcome(await runJob({ np: 4, nodes, program: example('ring'), captureOutput: true })));
    for (const r of runs.slice(1)) expect(r).toEqual(runs[0]);
  });

  it('an 8-rank program of ANY_SOURCE receives, alltoall, allreduce, polling and probes: five runs with random real delays, one outcome', async () => {
    const runs: ReturnType<typeof outcome>[] = [];
    for (let i = 0; i < 5; i++) {
      runs.push(outcome(await runJob({ np: 8, nodes: 2, program, args: ['3', '3', i === 0 ? '0' : '200', String(i)], captureOutput: true })));
    }
    for (const r of runs.slice(1)) expect(r).toEqual(runs[0]);
  });

  // Messages between ranks of one node through the shm rings: every chunk pushed lowers the
  // receiver's ring watermark, and every arrival and completion is an event of its timeline.
  describe.each(['shm', 'auto'] as const)('--intra %s', (intra) => {
    it.each([1, 2] as const)('the 8-rank program over %i node(s): five runs with random real delays, one outcome', async (nodes) => {
      const runs: ReturnType<typeof outcome>[] = [];
      for (let i = 0; i < 5; i++) {
        runs.push(outcome(await runJob({ np: 8, nodes, program, args: ['3', '3', i === 0 ? '0' : '200', String(i)], intra, captureOutput: true })));
      }
      // the rings carried the node's traffic
      expect(runs[0]!.reduce((n, r) => n + (r.adapter['intra.shmSends'] ?? 0), 0)).toBeGreaterThan(0);
      for (const r of runs.slice(1)) expect(r).toEqual(runs[0]);
    }, 300_000);

    it('examples/ring.ts and examples/allreduce.ts on 4 ranks of one node: five runs each, one outcome', async () => {
      for (const [name, args] of [['ring', []], ['allreduce', ['20000']]] as const) {
        const runs: ReturnType<typeof outcome>[] = [];
        for (let i = 0; i < 5; i++) runs.push(outcome(await runJob({ np: 4, program: example(name), args: [...args], intra, captureOutput: true })));
        for (const r of runs.slice(1)) expect(r, name).toEqual(runs[0]);
      }
    }, 300_000);
  });

  it('examples/heat.ts: five runs, one outcome, also while another thread keeps a core busy', async () => {
    const runs: ReturnType<typeof outcome>[] = [];
    for (let i = 0; i < 3; i++) runs.push(outcome(await runJob({ np: 4, program: example('heat'), captureOutput: true })));
    const burner = burnCore();
    try {
      for (let i = 0; i < 2; i++) runs.push(outcome(await runJob({ np: 4, program: example('heat'), captureOutput: true })));
    } finally {
      await burner.terminate();
    }
    for (const r of runs.slice(1)) expect(r).toEqual(runs[0]);
  });

  it('random programs with random real delays give the runs without delays (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 1000 }),
        async (seed, np, delaySeed) => {
          const args = (delay: number) => [String(seed), '2', String(delay), String(delaySeed)];
          const quiet = outcome(await runJob({ np, nodes: np > 3 ? 2 : 1, program, args: args(0), captureOutput: true }));
          const noisy = outcome(await runJob({ np, nodes: np > 3 ? 2 : 1, program, args: args(300), captureOutput: true }));
          expect(noisy).toEqual(quiet);
        }),
      { numRuns: 6, seed: 20261130 },
    );
  });
});
