/**
 * Issue 20.1: a receive 8 bytes short of a 1 MiB message fails with TruncationError and the send
 * completes, over every intra-node transport (the shm ring used to keep the sender waiting forever
 * once the receiver finished with the payload still in the ring).
 */
import { describe, expect, it } from 'vitest';
import { runJob, type IntraKind } from '../src/index.js';

const program = new URL('./programs/regress-truncate.ts', import.meta.url);
const MiB = 1 << 20;
const KINDS: IntraKind[] = ['rdma', 'shm', 'cma', 'xpmem', 'auto'];

describe.each(KINDS)('a truncated 1 MiB receive, --intra %s', (intra) => {
  it.each([[''], ['after']])('fails the receive alone; the sender completes (%s)', async (after) => {
    const r = await runJob({ np: 2, program, args: [String(MiB), after], intra, deadlockMs: 2000 });
    expect(r.error).toBeUndefined();
    expect(r.exitCode).toBe(0);
    expect(r.ranks[0]!.value).toEqual({ sent: true });
    const v = r.ranks[1]!.value as Record<string, unknown>;
    expect(v.error).toEqual({ code: 'MPI_ERR_TRUNCATE', messageBytes: MiB, bufferBytes: MiB - 8 });
    if (after) expect(v.after).toBe(77);
    expect(r.totals.messages.truncations).toBe(1);
  }, 60_000);
});
