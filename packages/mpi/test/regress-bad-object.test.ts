/**
 * Issues 20.4 and 15.2: an object receive whose bytes do not decode (a buffer message received
 * with recvObject, or corrupted bytes) fails that receive with InvalidObjectMessage, whichever
 * protocol carried it; the rank goes on, the sender's send completes and no temporary is left.
 */
import { describe, expect, it } from 'vitest';
import { runJob, type IntraKind } from '../src/index.js';

const program = new URL('./programs/regress-bad-object.ts', import.meta.url);
const eager = 12 * 1024;
const CASES: [IntraKind, number][] = [
  ['rdma', 64], ['rdma', 64 * 1024], ['shm', 64], ['shm', 64 * 1024], ['cma', 64 * 1024], ['xpmem', 64 * 1024],
];

describe.each(CASES)('recvObject of %s bytes that are not msgpack (%i bytes)', (intra, bytes) => {
  it('fails that receive with InvalidObjectMessage; the sender completes; nothing leaks', async () => {
    const r = await runJob({ np: 2, program, args: [String(bytes)], intra, eagerThreshold: eager, deadlockMs: 2000 });
    expect(r.error).toBeUndefined();
    expect(r.exitCode).toBe(0);
    expect(r.ranks[0]!.value).toEqual({ sent: true });
    const v = r.ranks[1]!.value as Record<string, any>;
    expect(v.next).toBe('next');
    for (const [e, source, tag] of [[v.error, 0, 1], [v.selfError, 1, 3]] as const) {
      expect(e).toMatchObject({ name: 'InvalidObjectMessage', code: 'MPI_ERR_TYPE', source, tag, messageBytes: bytes });
      expect(e.message).toMatch(new RegExp(`^the ${bytes}-byte message from rank ${source} \\(tag ${tag}\\) is not an object message`));
      expect(e.message).toMatch(/recv\(\) into a buffer/);
    }
    expect(v.leakedChunks).toBe(0);
  }, 60_000);
});
