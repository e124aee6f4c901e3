/**
 * Issue 15.4: InvalidBuffer at the side whose buffer is bad, on every adapter and single-copy path.
 * A bad receive buffer fails the receive, and the sender's FIN error names the receiver's buffer
 * (it used to blame the sender's own); a large send from memory the rank does not have throws
 * InvalidBuffer when posted (under odp, cma and xpmem it used to reach the receiver).
 */
import { describe, expect, it } from 'vitest';
import { runJob, type IntraKind } from '../src/index.js';

const program = new URL('./programs/regress-wrong-side.ts', import.meta.url);
const CONFIGS: ['pinning' | 'odp', IntraKind][] = [['pinning', 'rdma'], ['odp', 'rdma'], ['pinning', 'cma'], ['pinning', 'xpmem']];

describe.each(CONFIGS)('%s adapter, --intra %s, a 64 KiB rendezvous', (fabric, intra) => {
  it('a bad receive buffer: InvalidBuffer at the receiver; the sender is told the receiver\'s buffer was bad', async () => {
    const r = await runJob({ np: 2, program, args: ['recv'], fabric, intra, eagerThreshold: 12 * 1024, deadlockMs: 2000 });
    expect(r.error).toBeUndefined();
    const [s, v] = r.ranks.map((x) => x.value as Record<string, any>);
    expect(v!.recv).toMatchObject({ name: 'InvalidBuffer', code: 'MPI_ERR_BUFFER' });
    expect(v!.recv.message).toMatch(/^the receive buffer is not valid memory of this rank/);
    expect(s!.send).toMatchObject({ name: 'TransferError', code: 'TSMPI_TRANSFER' });
    expect(s!.send.message).toMatch(/^rank 1 could not receive the 65536-byte message \(tag 1\): its receive buffer is not valid memory/);
    expect(s!.send.message).not.toMatch(/this rank's buffer/);
    expect(v!.next).toBe('still here');
  }, 60_000);

  it('a send from memory the rank does not have: InvalidBuffer when posted, nothing sent', async () => {
    const r = await runJob({ np: 2, program, args: ['send'], fabric, intra, eagerThreshold: 12 * 1024, deadlockMs: 2000 });
    expect(r.error).toBeUndefined();
    const [s, v] = r.ranks.map((x) => x.value as Record<string, any>);
    expect(s!.send).toMatchObject({ name: 'InvalidBuffer', code: 'MPI_ERR_BUFFER' });
    expect(s!.send.message).toMatch(/^the send buffer is not valid memory of this rank/);
    expect(v).toEqual({ next: 'still here', unexpected: false });
    expect(r.totals.messages.rendezvousSends).toBe(0);
  }, 60_000);
});

// The pipelined rendezvous reads chunk by chunk: its landing is checked before the first read too, since
// under odp a read's local error is fatal for the queue pair (verbs) and would end the job instead.
describe.each(['pinning', 'odp'] as const)('%s adapter, --rndv pipeline:16K, a 64 KiB message', (fabric) => {
  it('a bad receive buffer: InvalidBuffer at the receiver; the sender is told the receiver\'s buffer was bad', async () => {
    const r = await runJob({ np: 2, nodes: 2, program, args: ['recv'], fabric, rndv: 'pipeline:16K', eagerThreshold: 12 * 1024, deadlockMs: 2000 });
    expect(r.error).toBeUndefined();
    const [s, v] = r.ranks.map((x) => x.value as Record<string, any>);
    expect(v!.recv).toMatchObject({ name: 'InvalidBuffer', code: 'MPI_ERR_BUFFER' });
    expect(s!.send).toMatchObject({ name: 'TransferError', code: 'TSMPI_TRANSFER' });
    expect(s!.send.message).toMatch(/its receive buffer is not valid memory/);
    expect(v!.next).toBe('still here');
  }, 60_000);
});
