import { describe, expect, it } from 'vitest';
import { parseInject, runJob, type JobResult } from '@tsmpi/mpi';

const program = new URL('./programs/inject-stream.ts', import.meta.url);
const run = (inject: string, rcache: 'off' | 'notifier' = 'notifier') =>
  runJob({ np: 2, program, inject, rcache, captureOutput: true });
/** What must not change from one run to the next under the same seed. */
const outcome = (r: JobResult) => ({
  exitCode: r.exitCode,
  error: r.error && { code: r.error.code, message: r.error.message, rank: r.error.rank },
  values: r.ranks.map((x) => x.value),
  wtime: r.ranks.map((x) => x.wtime),
});

describe('--inject: seeded registration faults (issue 15 item 12, registration part)', () => {
  it('parses SPEC and refuses what it cannot read, naming the flag or variable', () => {
    expect(parseInject('reg-enomem:0.25,reg-efault:0.01,seed:9')).toEqual({ regEnomem: 0.25, regEfault: 0.01, odpStorm: 0, memPressure: 0, seed: 9 });
    expect(parseInject('')).toEqual({ regEnomem: 0, regEfault: 0, odpStorm: 0, memPressure: 0, seed: 1 });
    expect(() => parseInject('reg-enomem:2')).toThrow(/^--inject reg-enomem:2: the rate of reg-enomem must be 0 to 1/);
    expect(() => parseInject('link-flap:1', 'TSMPI_INJECT')).toThrow(/^TSMPI_INJECT=link-flap:1: unknown fault 'link-flap'/);
    expect(() => parseInject('reg-enomem')).toThrow(/'reg-enomem' is not FAULT:VALUE/);
    expect(parseInject('stall:250').wakeStallMs).toBe(250);
    expect(() => parseInject('stall:0.5')).toThrow(/stall takes the wall ms a woken rank thread is held, an integer 1 to 60000/);
  });

  it('no faults: every byte arrives', async () => {
    const r = await run('');
    expect(r.exitCode).toBe(0);
    expect(r.ranks[1]!.value).toEqual({ wrong: 0 });
  });

  it('every registration refused with ENOMEM: the job fails with MPI_ERR_NO_MEM naming the injected fault', async () => {
    const r = await run('reg-enomem:1');
    expect(r.exitCode).toBe(1);
    expect(r.error!.code).toBe('MPI_ERR_NO_MEM');
    expect(r.error!.message).toMatch(/injected fault reg-enomem \(--inject\)/);
  });

  it('every registration refused with EFAULT: the job fails with MPI_ERR_BUFFER naming the injected fault', async () => {
    const r = await run('reg-efault:1', 'off');
    expect(r.exitCode).toBe(1);
    expect(r.error!.code).toBe('MPI_ERR_BUFFER');
    expect(r.error!.message).toMatch(/injected fault reg-efault \(--inject\)/);
  });

  it('at a rate: completes with every byte right or fails typed, never wrong bytes, the same in every run', async () => {
    // the cache (4 buffers, registered once) survives seed 2's draws; pin-per-op registers 32 times and meets one
    const cases = [['reg-enomem:0.1,seed:2', 'notifier', 0], ['reg-enomem:0.05,seed:3', 'off', 1], ['reg-enomem:0.2,reg-efault:0.05,seed:11', 'off', 1]] as const;
    for (const [spec, rcache, exitCode] of cases) {
      const a = await run(spec, rcache);
      const b = await run(spec, rcache);
      expect(outcome(a)).toEqual(outcome(b));
      expect(a.exitCode).toBe(exitCode);
      if (a.exitCode === 0) expect(a.ranks.map((x) => x.value)).toEqual([{ wrong: 0 }, { wrong: 0 }]);
      else expect(a.error!.message).toMatch(/injected fault reg-e(nomem|fault) \(--inject\)/);
    }
  });
});
