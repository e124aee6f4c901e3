import { describe, expect, it } from 'vitest';
import { parseInject, runJob, type JobResult } from '@tsmpi/mpi';

// rank 0 streams 16 rendezvous-size messages to rank 1, which checks every byte (setResult({ wrong }))
const program = new URL('./programs/inject-stream.ts', import.meta.url);
const run = (inject: string, fabric: 'pinning' | 'odp' = 'odp', rcache: 'off' | 'notifier' = 'notifier') =>
  runJob({ np: 2, program, inject, fabric, rcache, captureOutput: true });
/** What must not change from one run to the next under the same seed. */
const outcome = (r: JobResult) => ({
  exitCode: r.exitCode,
  error: r.error && { code: r.error.code, message: r.error.message, rank: r.error.rank },
  values: r.ranks.map((x) => x.value),
  wtime: r.ranks.map((x) => x.wtime),
  faults: r.totals?.faults,
  adapter: r.totals?.adapter,
});
const TIMEOUT_US = 4.096 * 2 ** 14;

describe('--inject: ODP storms, memory pressure, a forced QP error, a link down (issue 15 item 12)', () => {
  it('parses every fault kind and refuses what it cannot read', () => {
    expect(parseInject('odp-storm:2,mem-pressure:0.5,qp-error:3000,link-down:1000+200,seed:4')).toEqual({
      regEnomem: 0, regEfault: 0, odpStorm: 2, memPressure: 0.5, qpErrorAt: 3000, linkDown: { start: 1000, length: 200 }, seed: 4,
    });
    expect(() => parseInject('link-down:1000')).toThrow(/^--inject link-down:1000: link-down takes START\+LENGTH/);
    expect(() => parseInject('odp-storm:5000')).toThrow(/the rate of odp-storm must be 0 to 1000 per virtual ms/);
    expect(() => parseInject('qp-error:-1', 'TSMPI_INJECT')).toThrow(/^TSMPI_INJECT=qp-error:-1: qp-error takes the virtual µs/);
  });

  it('ODP storms: every translation zapped again and again, the adapter re-faults, every byte right, the same twice', async () => {
    const quiet = await run('');
    const a = await run('odp-storm:500,seed:3');
    expect(a.exitCode).toBe(0);
    expect(a.ranks.map((x) => x.value)).toEqual([{ wrong: 0 }, { wrong: 0 }]);
    expect(a.totals!.faults!.odpStorms).toBeGreaterThan(4);
    expect(a.totals!.adapter.odpInvalidations).toBeGreaterThan(quiet.totals!.adapter.odpInvalidations ?? 0);
    expect(a.totals!.adapter.odpFaults).toBeGreaterThan(quiet.totals!.adapter.odpFaults!);
    expect(outcome(await run('odp-storm:500,seed:3'))).toEqual(outcome(a));
  }, 300_000);

  it('memory pressure: unpinned pages migrated and reclaimed under odp and under the pinning cache, every byte right', async () => {
    for (const fabric of ['odp', 'pinning'] as const) {
      const quiet = await run('', fabric);
      const a = await run('mem-pressure:200,seed:5', fabric);
      expect(a.exitCode).toBe(0);
      expect(a.ranks.map((x) => x.value)).toEqual([{ wrong: 0 }, { wrong: 0 }]);
      expect(a.totals!.faults!.memPressure).toBeGreaterThan(2);
      if (fabric === 'odp') expect(a.totals!.adapter.odpFaults).toBeGreaterThan(quiet.totals!.adapter.odpFaults!);
      expect(outcome(await run('mem-pressure:200,seed:5', fabric))).toEqual(outcome(a));
    }
  }, 400_000);

  it('a QP forced into the error state: the job fails with ConnectionFailed naming the peer and the injected fault, the same twice', async () => {
    // seed 2 fails rank 1's queue pair: rank 0's next send finds it in error (RETRY_EXCEEDED); seed 3 fails rank 0's own (flushed)
    const b = await run('qp-error:20,seed:3', 'pinning');
    expect(b.error!.message).toMatch(/connection of rank 0 to rank 1 failed \(WR_FLUSH_ERROR\): injected fault qp-error \(--inject\): the queue pair was forced/);
    const a = await run('qp-error:20,seed:2', 'pinning');
    expect(a.error!.message).toMatch(/connection of rank 0 to rank 1 failed \(RETRY_EXCEEDED\): queue pair \d+ of node 0 is in the error state \(injected fault qp-error/);
    expect(a.exitCode).toBe(1);
    expect(a.error!.code).toBe('TSMPI_CONNECTION');
    expect(a.error!.message).toMatch(/the connection of rank ([01]) to rank (?!\1)[01] failed \((WR_FLUSH_ERROR|RETRY_EXCEEDED)\): .*injected fault qp-error \(--inject\)/);
    expect(a.ranks.every((x) => ((x.value as { wrong?: number } | undefined)?.wrong ?? 0) === 0)).toBe(true);
    expect(outcome(await run('qp-error:20,seed:2', 'pinning'))).toEqual(outcome(a));
  }, 300_000);

  it('link down shorter than the retries: operations wait for the retransmission after it, every byte right', async () => {
    const quiet = await run('', 'pinning');
    const a = await run('link-down:10+100000', 'pinning');
    expect(a.exitCode).toBe(0);
    expect(a.ranks.map((x) => x.value)).toEqual([{ wrong: 0 }, { wrong: 0 }]);
    expect(a.totals!.faults!.linkDown).toBe(2);
    // what was posted in the window left only at a retransmission after it
    expect(a.totals!.maxVirtualUs).toBeGreaterThan(quiet.totals!.maxVirtualUs + 100000 - 10);
    expect(a.totals!.maxVirtualUs).toBeLessThan(quiet.totals!.maxVirtualUs + 3 * TIMEOUT_US);
  }, 300_000);

  it('link down longer than the retries: the job fails with ConnectionFailed naming the injected link-down', async () => {
    const a = await run('link-down:10+1000000000', 'pinning');
    expect(a.exitCode).toBe(1);
    expect(a.error!.code).toBe('TSMPI_CONNECTION');
    expect(a.error!.message).toMatch(/failed \(RETRY_EXCEEDED\): the link was down for every retransmission from [\d.]+ µs on \(injected fault link-down \(--inject\): down for \[10, 1000000010\) µs\)/);
  }, 300_000);
});
