import { describe, expect, it } from 'vitest';
import { runJob, PROC_NULL, ANY_TAG, UNDEFINED } from '../src/index.js';

const program = new URL('./programs/pt2pt.ts', import.meta.url);

// The MPICH-style point-to-point set, under two eager thresholds and both adapters.
const configs = [
  { eager: 12 * 1024, fabric: 'pinning' },
  { eager: 12 * 1024, fabric: 'odp' },
  { eager: 256, fabric: 'pinning' },
  { eager: 256, fabric: 'odp' },
] as const;

describe.each(configs)('point-to-point, eager < $eager B, $fabric adapter', ({ eager, fabric }) => {
  it('matches, orders, delivers, truncates and rejects as MPI says', async () => {
    const r = await runJob({ np: 3, program, args: [String(eager)], eagerThreshold: eager, fabric });
    expect(r.error).toBeUndefined();
    expect(r.exitCode).toBe(0);
    const [r0, r1, r2] = r.ranks.map((x) => x.value as Record<string, any>);

    // ANY_SOURCE takes the earliest arrival, then the next one
    expect(r0!.anySource).toEqual({ first: [1, 1], second: [2, 2] });

    // one stream mixing eager and rendezvous sizes arrives in send order, every byte right
    expect(r0!.order.seen).toEqual(r0!.order.expected);
    expect(r0!.order.bad).toBe(0);

    // unexpected messages of every size
    const sizes = [0, 1, 8, 1024, eager - 1, eager, eager + 1, 65536, 1 << 20];
    const rendezvous = sizes.filter((n) => n >= eager && n > 0).length;
    expect(r0!.unexpectedSender).toMatchObject({
      eagerSends: sizes.length - rendezvous + 1, // + the 'all posted' object
      rendezvousSends: rendezvous,
    });
    for (const x of r1!.unexpectedReceiver.results) {
      expect(x.bad).toBe(0);
      expect(x.count).toBe(x.n);
    }
    expect(r1!.unexpectedReceiver.counters).toMatchObject({
      receivesPosted: sizes.length,
      matchedUnexpected: sizes.length,
      rdmaReads: rendezvous,
      bytesReceived: sizes.reduce((a, b) => a + b, 0),
    });

    // truncation: typed error at the receiver with both sizes; the sender succeeded; the pair still works
    expect(r0!.truncSender).toEqual(['sent', 'sent']);
    expect(r1!.truncReceiver.errs).toEqual([
      { name: 'TruncationError', code: 'MPI_ERR_TRUNCATE', messageBytes: 100, bufferBytes: 99, hint: true },
      { name: 'TruncationError', code: 'MPI_ERR_TRUNCATE', messageBytes: eager + 1000, bufferBytes: eager + 999, hint: true },
    ]);
    expect(r1!.truncReceiver.after).toBe(77);
    expect(r1!.truncReceiver.truncations).toBe(2);

    // self-sends (buffered small, synchronous large), PROC_NULL, zero-length
    expect(r2!.self.small).toEqual({ status: { source: 2, tag: 1, count: 4, byteCount: 32 }, data: [1.5, 2.5, 3.5, 4.5] });
    expect(r2!.self.big).toEqual({ source: 2, count: eager * 3, bad: 0 });
    expect(r2!.self.procNull).toEqual({ source: PROC_NULL, tag: ANY_TAG, count: 0, byteCount: 0 });
    expect(r2!.self.zero).toEqual({ source: 2, tag: 4, count: 0, byteCount: 0 });
    expect(r2!.self.selfSends).toBe(3);

    // many outstanding large messages, posted in reverse tag order
    expect(r1!.outstanding.tags).toEqual([71, 70, 69, 68, 67, 66, 65, 64, 63, 62, 61, 60]);
    expect(r1!.outstanding.bad).toBe(0);
    expect(r1!.outstanding.anyIndexValid).toBe(true);

    // probe, matched probe, counts in elements, polls cost virtual time (0.05 µs each on hdr)
    expect(r1!.probe.probe).toEqual({ source: 0, tag: 70, count: 80, byteCount: 80 });
    expect(r1!.probe.mstatus).toEqual({ source: 0, tag: 71, count: 10, byteCount: 80 });
    expect(r1!.probe.mdata).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.25]);
    expect(r1!.probe.probeAgain).toBeNull();
    expect(r1!.probe.status).toEqual({ source: 0, tag: 70, count: 10, byteCount: 80 });
    expect(r1!.probe.polls).toBe(5);
    expect(r1!.probe.pollUs).toBeCloseTo(6 * 0.05, 6);

    // objects never truncate, whatever their size
    expect(r1!.objects).toMatchObject({
      small: { hello: 'world', n: 42, nested: [1, [2, 3]] },
      bigOk: true,
      typed: [1, 2, 3],
      typedIsFloat64: true,
    });
    expect(r1!.objects.bigBytes).toBeGreaterThan(eager);

    // waitAny: each request once, then UNDEFINED, as for an empty list
    expect(r1!.waitAny).toEqual({ visited: [0, 1, 2, 3, 4], values: [40, 30, 20, 10, 0], again: UNDEFINED, empty: UNDEFINED });

    // a zero-copy view aliases the buffer's frames; a freed buffer has none
    expect(r0!.view).toEqual({ seen: 42.5, back: 7, after: 'MPI_ERR_BUFFER' });

    // bad arguments: typed errors whose messages say what to do
    const bad = r0!.badArgs;
    expect(bad.rankOutOfRange.code).toBe('MPI_ERR_RANK');
    expect(bad.rankOutOfRange.message).toMatch(/use an integer in \[0, 2\]/);
    expect(bad.negativeTag.code).toBe('MPI_ERR_TAG');
    expect(bad.anyTagOnSend.code).toBe('MPI_ERR_TAG');
    expect(bad.plainTypedArray.code).toBe('MPI_ERR_TYPE');
    expect(bad.plainTypedArray.message).toMatch(/comm\.alloc/);
    expect(bad.unmappedBuffer.code).toBe('MPI_ERR_BUFFER');
    expect(bad.unmappedBuffer.message).toMatch(/segmentation fault/i);
    expect(bad.freedBuffer.code).toBe('MPI_ERR_BUFFER');
    expect(bad.badSource.code).toBe('MPI_ERR_RANK');
    expect(bad.wrongAllocType.code).toBe('MPI_ERR_TYPE');
  });
});
