// Failures of a job whose nodes are OS processes: a node killed with SIGKILL mid-job, a rank that throws
// on the last node, a deadlock across processes. Each ends the whole job with a report naming the rank,
// the node and the cause, a non-zero exit, and no process left behind; under tsmpi's --procs and, where
// noted, under MPICH's mpiexec.
import { describe, expect, it } from 'vitest';
import { alive, inCI, mpiexecPath, underMpiexec, underProcs, type JobSpec } from './procs-harness.js';

const mpiexec = mpiexecPath();
const faults = (what: string, np: number, nodes: number): JobSpec => ({ np, nodes, program: 'packages/mpi/test/programs/procs-faults.ts', args: [what] });

/** Kills node `victim`'s process as soon as every rank said it runs; returns when it was killed and every pid. */
function killer(np: number, victim: number, nodeOf: (rank: number) => number) {
  const pids = new Map<number, number>();
  const state = { killedAt: 0, pids };
  let text = '';
  const onOutput = (t: string) => {
    text += t;
    for (const m of text.matchAll(/running rank=(\d+) pid=(\d+)/g)) pids.set(Number(m[1]), Number(m[2]));
    if (pids.size === np && state.killedAt === 0) {
      const rank = [...pids.keys()].find((r) => nodeOf(r) === victim)!;
      state.killedAt = performance.now();
      process.kill(pids.get(rank)!, 'SIGKILL');
    }
  };
  return { state, onOutput };
}

describe('faults across node processes (--procs)', () => {
  it('kill -9 of node 1 mid-job: the job ends, node 0 names the lost node and its ranks, nothing is left', async () => {
    const k = killer(4, 1, (r) => (r < 2 ? 0 : 1));
    const o = await underProcs(faults('hang', 4, 2), (t) => k.onOutput(t));
    expect(k.state.killedAt).toBeGreaterThan(0);
    expect(o.exitCode).not.toBe(0);
    expect(o.stderr).toMatch(/tsmpi: node 1 \(pid \d+\) was killed by SIGKILL/);
    expect(o.error).toBe('node 1 (ranks 2-3) was lost: its process ended without a word (killed, or crashed)');
    for (const pid of k.state.pids.values()) expect(alive(pid)).toBe(false);
  });

  it('a rank that throws on node 2 ends the job: node 0 reports rank, node and error once', async () => {
    const o = await underProcs(faults('throw', 6, 3));
    expect(o.exitCode).toBe(1);
    expect(o.ranks.find((r) => r.rank === 5)).toMatchObject({ node: 2, outcome: 'failed' });
    expect(o.error).toBe('rank 5 on node 2 failed: Error: boom on the last node (rank 5)');
  });

  it('a deadlock across processes: node 0 lists every rank\'s wait, on every node, and exits 2', async () => {
    const o = await underProcs({ ...faults('deadlock', 4, 2), options: { deadlockMs: 800 } });
    expect(o.exitCode).toBe(2);
    expect(o.error).toBe(
      'deadlock: every rank is blocked and nothing has moved for 800 ms\n' +
        [0, 1, 2, 3].map((r) => `  rank ${r}: blocked in recv(source=${(r + 1) % 4}, tag=7) (node ${r < 2 ? 0 : 1})`).join('\n'),
    );
  });

  it('ranks on two nodes held off their cores for 4 windows (--inject stall) hand messages on: no deadlock reported', async () => {
    const o = await underProcs({ np: 2, nodes: 2, program: 'packages/mpi/test/programs/deadlock-stalled.ts', args: ['handoff', '400'],
      options: { deadlockMs: 400, inject: 'stall:1600' } });
    expect(o.error).toBeUndefined();
    expect(o.exitCode).toBe(0);
  });

  it('the deadlock across processes is still reported under the same stalls', async () => {
    const o = await underProcs({ ...faults('deadlock', 4, 2), options: { deadlockMs: 400, inject: 'stall:1600' } });
    expect(o.exitCode).toBe(2);
    expect(o.error).toMatch(/^deadlock: every rank is blocked and nothing has moved for 400 ms\n  rank 0: blocked in recv\(source=1, tag=7\) \(node 0\)/);
  });
});

// The QP errors of one node process reach the other's ranks: an error answer puts the initiator's QP
// in error, and a target QP the link took down says so in its answer, so the job's error names the
// injected fault wherever it is met first — never only "queue pair N of node M is in the error state".
describe('queue-pair faults across node processes (--procs)', () => {
  it('a link down longer than the retries: the job fails with ConnectionFailed naming the injected link-down, no hang', async () => {
    const o = await underProcs({ ...faults('ring', 4, 2), options: { deadlockMs: 3000, inject: 'link-down:10+1000000000' } });
    expect(o.exitCode).toBe(1);
    expect(o.error).toMatch(/^rank \d on node \d failed: ConnectionFailed: the connection of rank \d to rank \d failed \(RETRY_EXCEEDED\): /);
    expect(o.error).toMatch(/the link was down for every retransmission.*\(injected fault link-down \(--inject\): down for \[10, 1000000010\) µs\)/);
  });

  it('a link down shorter than the retries: every message arrives (across processes it does not delay frames)', async () => {
    const o = await underProcs({ ...faults('ring', 4, 2), options: { deadlockMs: 3000, inject: 'link-down:10+100000' } });
    expect(o.error).toBeUndefined();
    expect(o.exitCode).toBe(0);
  });

  it('a queue pair forced into error: the job fails with ConnectionFailed naming the injected qp-error, no hang', async () => {
    const o = await underProcs({ ...faults('ring', 4, 2), options: { deadlockMs: 3000, inject: 'qp-error:20,seed:3' } });
    expect(o.exitCode).toBe(1);
    expect(o.error).toMatch(/ConnectionFailed: the connection of rank \d to rank \d failed \((WR_FLUSH_ERROR|RETRY_EXCEEDED)\): .*injected fault qp-error \(--inject\)/);
  });
});

describe('faults across node processes (mpiexec)', () => {
  it.runIf(inCI)('mpiexec is installed (CI)', () => expect(mpiexec).toBeDefined());

  it.skipIf(!mpiexec)('kill -9 of a node: Hydra ends the others, no process is left, non-zero exit', async () => {
    const k = killer(4, 1, (r) => (r < 2 ? 0 : 1));
    const o = await underMpiexec(faults('hang', 4, 2), '1', (t) => k.onOutput(t));
    expect(k.state.killedAt).toBeGreaterThan(0);
    expect(o.exitCode).not.toBe(0);
    expect(o.lines.join('\n') + o.stderr).toMatch(/KILLED BY SIGNAL: 9|Killed \(signal 9\)/); // Hydra's own report
    for (const pid of k.state.pids.values()) expect(alive(pid)).toBe(false);
  });

  it.skipIf(!mpiexec)('a rank that throws on node 2 (PMI-2): node 0 reports it and every process exits non-zero', async () => {
    const o = await underMpiexec(faults('throw', 6, 3), '2');
    expect(o.exitCode).not.toBe(0);
    expect(o.error).toBe('rank 5 on node 2 failed: Error: boom on the last node (rank 5)');
  });
});
