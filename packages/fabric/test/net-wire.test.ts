/*
 * The network wire against one process: each scenario of net-scenarios.ts runs once in one thread
 * (InProcessWire) and once as two node processes talking TCP on loopback (NetworkWire), and every
 * completion (status, bytes, virtual time), every rank's clock and counters and every byte check
 * must be identical — not close.
 */
import { describe, expect, it } from 'vitest';
import { Status } from '@tsmpi/fabric';
import { inProcess, overNetwork } from './net-harness.js';

describe.each(['pinning', 'odp'] as const)('%s over the network wire', (kind) => {
  it('send/recv: page-crossing sizes, a length error, a parked send delivered by the receiver, an unsignaled send — as in one process', async () => {
    const local = await inProcess(kind, 'send-recv');
    const net = await overNetwork(kind, 'send-recv');
    expect(net.errors).toEqual([]);
    expect(net.results).toEqual(local);
    const [s, r] = net.results as any[];
    expect(r.wrong).toBe(0);
    expect(r.lateWrong).toBe(0);
    expect(s.sends.map((c: any) => c.status)).toEqual([Status.SUCCESS, Status.SUCCESS, Status.SUCCESS]);
    expect(r.recvs.map((c: any) => [c.byteLength, c.immData])).toEqual([[8, 100], [5000, 101], [40_000, 102]]);
    expect([s.tooLong.status, r.short.status]).toEqual([Status.REMOTE_INVALID_REQUEST, Status.LOCAL_LENGTH_ERROR]);
    expect(s.stats).toMatchObject({ sendOps: 5, rnrParked: 1, rnrDelivered: 1 });
    expect(s.countedAtPost).toBe(5); // the unsignaled send counts before its post returns, as in one process
    expect(r.late).toMatchObject({ status: Status.SUCCESS, byteLength: 3000, immData: 7 });
  });

  it('rdmaRead and rdmaWrite, unaligned; a bad rkey and an out-of-bounds write fail REMOTE_ACCESS_ERROR; fetch-add and compare-swap — as in one process', async () => {
    const local = await inProcess(kind, 'rdma');
    const net = await overNetwork(kind, 'rdma');
    expect(net.errors).toEqual([]);
    expect(net.results).toEqual(local);
    const [i, t] = net.results as any[];
    expect([i.readWrong, t.written, t.untouched]).toEqual([0, 0, 0]);
    expect([i.badKey.status, i.outOfBounds.status]).toEqual([Status.REMOTE_ACCESS_ERROR, Status.REMOTE_ACCESS_ERROR]);
    expect(i.afterError).toBe('error'); // the error answer put the initiator's QP in ERR before its rank saw it
    expect(i.stats).toMatchObject({ readOps: 1, readBytes: 256 * 1024, writeOps: 2, writeBytes: 100_000, atomicOps: 2 });
    expect([i.add.c.status, i.swapped.c.status, i.misaligned.status]).toEqual([Status.SUCCESS, Status.SUCCESS, Status.REMOTE_INVALID_REQUEST]);
    expect(BigInt(i.swapped.old)).toBe(BigInt(i.add.old) + 5n); // the swap saw the add
    expect(t.lastWord).toBe('-1');
  });

  it(kind === 'pinning'
    ? 'a registration the target freed and remapped delivers the OLD bytes across nodes, as in one process'
    : 'a registration the target freed and remapped faults in the NEW bytes across nodes, as in one process', async () => {
    const local = await inProcess(kind, 'stale');
    const net = await overNetwork(kind, 'stale');
    expect(net.errors).toEqual([]);
    expect(net.results).toEqual(local);
    const [i, t] = net.results as any[];
    expect(t.sameAddress).toBe(true);
    expect(i.second.status).toBe(Status.SUCCESS);
    if (kind === 'pinning') expect(i.staleBytes).toBe(64 * 1024);
    else expect(i.freshBytes).toBe(64 * 1024);
    if (kind === 'odp') expect(t.stats.odpFaults).toBeGreaterThan(0);
  });
});
