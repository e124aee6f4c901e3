import { describe, expect, it } from 'vitest';
import { runJob, runProcsJob } from '../src/index.js';

/*
 * One-sided communication (issue 13), scenarios named after MPICH's test/mpi/rma, run as real jobs:
 * ranks on worker threads, windows registered through each rank's cache, puts and gets as RDMA,
 * 8-byte integer ops as the fabric's atomics. Both adapters, one node and two.
 */
const program = new URL('./programs/rma.ts', import.meta.url);

async function run(scenario: string, np: number, opts: { nodes?: number; fabric?: 'pinning' | 'odp'; rcache?: 'off' | 'none' | 'hooks' | 'notifier' } = {}) {
  const r = await runJob({ np, program, args: [scenario], ...opts });
  expect(r.error).toBeUndefined();
  return r.ranks.map((x) => x.value as Record<string, unknown>);
}

describe.each([
  { fabric: 'pinning' as const, np: 2, nodes: 1 },
  { fabric: 'odp' as const, np: 4, nodes: 2 },
  { fabric: 'pinning' as const, np: 8, nodes: 2 },
])('$fabric, $np ranks on $nodes node(s)', ({ fabric, np, nodes }) => {
  const o = { fabric, nodes };

  it('putfence1: each rank\'s put lands in the next rank\'s window by the closing fence', async () => {
    expect((await run('putfence1', np, o)).map((v) => v['ok'])).toEqual(Array(np).fill(true));
  });

  it('getfence1: each rank reads the next rank\'s window', async () => {
    expect((await run('getfence1', np, o)).map((v) => v['ok'])).toEqual(Array(np).fill(true));
  });

  it('accfence1: accumulates of doubles and 32-bit ints from every rank all count (accumulate lock)', async () => {
    expect((await run('accfence1', np, o)).map((v) => v['ok'])).toEqual(Array(np).fill(true));
  });

  it('fetchandadd: a shared counter by fetch-and-add hands out every value exactly once', async () => {
    const v = await run('fetchandadd', np, o);
    expect(v[0]).toEqual({ distinct: true, final: 10 * np, count: 10 * np });
  });

  it('compare_and_swap: exactly one rank swaps 0 for its value; every rank saw 0 or the winner', async () => {
    const v = await run('compare_and_swap', np, o);
    for (const x of v) expect(x).toMatchObject({ winners: 1, consistent: true });
    expect(v[0]!['final']).toBeGreaterThan(0);
  });

  it('lockcontention: get-modify-put of a double under exclusive locks loses no increment', async () => {
    expect((await run('lockcontention', np, o))[0]!['final']).toBe(5 * np);
  });

  it('pscw: post/start/complete/wait around a ring, three rounds, each round\'s bytes in place at wait', async () => {
    expect((await run('pscw', np, o)).map((v) => v['ok'])).toEqual(Array(np).fill(true));
  });

  it('win_dynamic_acc: accumulates (SUM, MAX on 64-bit ints) into an attached region', async () => {
    const ranks = Array.from({ length: np }, (_, r) => r);
    expect((await run('win_dynamic_acc', np, o))[0]!['got']).toEqual([np, 2 * np, 3 * np, Math.max(ranks.reduce((a, b) => a + b, 0), 10 * (np - 1))]);
  });
});

describe('RMA errors are typed, never wrong bytes or a hang', () => {
  it('put outside an epoch, outside the window, unlock without lock, an address nobody attached', async () => {
    const v = await run('errors', 3, { nodes: 2 });
    for (const x of v) {
      expect(x['errs']).toEqual([
        'RmaSyncError:MPI_ERR_RMA_SYNC', 'RmaRangeError:MPI_ERR_RMA_RANGE', 'RmaRangeError:MPI_ERR_RMA_RANGE',
        'RmaSyncError:MPI_ERR_RMA_SYNC', 'RmaAttachError:MPI_ERR_RMA_ATTACH',
      ]);
    }
  });
});

describe('a detached region', () => {
  // A put through a revoked key completes REMOTE_ACCESS_ERROR, which verbs makes fatal for the queue pair; as an MPI
  // over verbs does, the rank then fails for good (no reconnect): its program catches ConnectionFailed once, gets it
  // again from its next call, and the job fails typed, naming the cause, instead of hanging on the dead connection.
  it('pin-per-op: the revoked key completes REMOTE_ACCESS_ERROR, fatal for the connection: the job fails typed, no byte written', async () => {
    const r = await runJob({ np: 2, program, args: ['detached'], nodes: 2, rcache: 'off', deadlockMs: 5000 });
    expect(r.error).toMatchObject({ kind: 'exception', rank: 0, code: 'TSMPI_CONNECTION' });
    expect(r.error!.message).toMatch(/ConnectionFailed: the connection of rank 0 to rank 1 failed \(REMOTE_ACCESS_ERROR\): the peer refused a remote access/);
    expect(r.error!.message).toMatch(/tsmpi does not reconnect/);
    expect(r.ranks[0]!.stats!.adapter).toMatchObject({ writeBytes: 0, 'errors.REMOTE_ACCESS_ERROR': 1 });
  });
});

/*
 * Rank 1 detaches, frees, mallocs (same address, new frames) and attaches again every round; rank 0
 * puts through what it learned at the fence. A pinning adapter behind a cache nobody tells keeps the
 * first registration: rounds 1-3 land in the old frames (as examples/stale-registration.ts shows
 * for two-sided traffic). Every other configuration delivers every byte.
 */
describe('dynamic window: detach + free + malloc + attach at the same address', () => {
  const bytes = 256 * 1024;
  it.each([
    ['pinning', 'none', 3 * bytes],
    ['pinning', 'notifier', 0],
    ['pinning', 'hooks', 0],
    ['pinning', 'off', 0],
    ['odp', 'none', 0],
  ] as const)('%s with rcache %s: %i stale bytes', async (fabric, rcache, stale) => {
    const v = await run('dynamic_stale', 2, { nodes: 2, fabric, rcache });
    expect(v[1]).toMatchObject({ stale, sameAddress: true });
    expect(v[1]!['staleRounds']).toEqual(stale > 0 ? [1, 2, 3] : []);
  });
});

describe('one-sided virtual time is exact', () => {
  it('lock contention and a fetch-and-add counter give identical clocks, counters and values run after run', async () => {
    const once = async (scenario: string) => {
      const r = await runJob({ np: 4, nodes: 2, program, args: [scenario] });
      expect(r.error).toBeUndefined();
      return r.ranks.map((x) => ({ value: x.value, clock: x.stats!.virtualUs, adapter: x.stats!.adapter, rcache: x.stats!.rcache }));
    };
    for (const s of ['lockcontention', 'fetchandadd']) {
      const a = await once(s);
      expect(await once(s)).toEqual(a);
      expect(a[1]!.clock).toBeGreaterThan(0);
    }
  }, 120_000);
});

describe('examples/rma-counter.ts', () => {
  it('runs as its header says: every ticket handed out once, the counter at size × tickets', async () => {
    const r = await runJob({ np: 4, nodes: 2, program: new URL('../../../examples/rma-counter.ts', import.meta.url), args: ['6'], captureOutput: true });
    expect(r.exitCode).toBe(0);
    expect(r.ranks[0]!.output).toMatch(/counter = 24 after 4 ranks × 6 fetchAndOp: every ticket handed out once/);
    expect(r.ranks[0]!.output).toMatch(/rank 3: [\d.]+ µs of virtual time per fetchAndOp/);
  });
});

describe('windows across node processes (--procs: atomics and RDMA over the network wire)', () => {
  it('a fetch-and-add counter and the dynamic-window stale case behave as in one process', async () => {
    const procs = (scenario: string) => runProcsJob({ np: 2, nodes: 2, program, args: [scenario], rcache: 'none' });
    const fadd = await procs('fetchandadd');
    expect(fadd.error).toBeUndefined();
    expect(fadd.ranks[0]!.value).toEqual({ distinct: true, final: 20, count: 20 });
    const stale = await procs('dynamic_stale');
    expect(stale.error).toBeUndefined();
    expect(stale.ranks[1]!.value).toEqual({ stale: 3 * 256 * 1024, staleRounds: [1, 2, 3], sameAddress: true });
  }, 120_000);
});
