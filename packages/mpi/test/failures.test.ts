import { describe, expect, it } from 'vitest';
import { DEADLOCK_EXIT_CODE, runJob } from '../src/index.js';

const prog = (name: string) => new URL(`./programs/${name}.ts`, import.meta.url);

describe('failures end the job with a report, never a hang', () => {
  it('a rank that throws ends the job with its rank, error and stack; the others are torn down', async () => {
    const r = await runJob({ np: 3, program: prog('fail-throw'), captureOutput: true });
    expect(r.exitCode).toBe(1);
    expect(r.error).toMatchObject({ kind: 'exception', rank: 1 });
    expect(r.error!.message).toBe('rank 1 failed: Error: boom in rank 1');
    expect(r.error!.stack).toMatch(/fail-throw\.ts/);
    expect(r.ranks[1]!.outcome).toBe('failed');
    for (const i of [0, 2]) expect(['aborted', 'killed']).toContain(r.ranks[i]!.outcome);
  });

  it('a rank that exits non-zero ends the job with that exit code', async () => {
    const r = await runJob({ np: 2, program: prog('fail-exit'), captureOutput: true });
    expect(r.exitCode).toBe(3);
    expect(r.error).toMatchObject({ kind: 'exit', rank: 1 });
    expect(r.error!.message).toMatch(/rank 1 exited with code 3/);
  });

  it('abort(5) ends the job with exit code 5 and the message', async () => {
    const r = await runJob({ np: 3, program: prog('fail-abort'), captureOutput: true });
    expect(r.exitCode).toBe(5);
    expect(r.error).toMatchObject({ kind: 'abort', rank: 0 });
    expect(r.error!.message).toMatch(/abort\(5\): giving up on purpose/);
  });

  it('an error after an awaited request in an async main is reported', async () => {
    const r = await runJob({ np: 2, program: prog('async-reject'), captureOutput: true });
    expect(r.exitCode).toBe(1);
    expect(r.error!.message).toBe('rank 0 failed: RangeError: rank 0 got 4,2 and rejects it');
  });

  it('a global deadlock is detected and reported with what each rank waits for', async () => {
    const r = await runJob({ np: 3, program: prog('deadlock'), deadlockMs: 500 });
    expect(r.exitCode).toBe(DEADLOCK_EXIT_CODE);
    expect(r.error!.kind).toBe('deadlock');
    expect(r.error!.waits).toEqual([
      'rank 0: blocked in recv(source=1, tag=11)',
      'rank 1: blocked in recv(source=2, tag=11)',
      'rank 2: blocked in recv(source=0, tag=11)',
    ]);
  });

  it('waiting for a rank that already finished is a deadlock too', async () => {
    const r = await runJob({ np: 2, program: prog('deadlock-gone'), deadlockMs: 500 });
    expect(r.exitCode).toBe(DEADLOCK_EXIT_CODE);
    expect(r.error!.waits).toEqual(['rank 0: finished', 'rank 1: blocked in recv(source=0, tag=4)']);
  });

  it('a locked-memory limit too small for the bounce buffers is reported with the fix', async () => {
    const r = await runJob({ np: 2, program: new URL('../../../examples/hello.ts', import.meta.url), memlock: 64 * 1024, captureOutput: true });
    expect(r.exitCode).toBe(1);
    expect(r.error!.code).toBe('MPI_ERR_NO_MEM');
    expect(r.error!.message).toMatch(/cannot pin its \d+ bytes of eager bounce buffers within its locked-memory limit of 65536 bytes: raise it \(tsmpi run --memlock/);
  });

  it('a missing program is a usage error before any rank starts', async () => {
    await expect(runJob({ np: 2, program: 'no/such/program.ts' })).rejects.toMatchObject({ code: 'TSMPI_USAGE' });
  });
});
