import { describe, expect, it } from 'vitest';
import { PhysicalMemory } from '@tsmpi/vm';
import {
  Access, InProcessWire, InvalidArgument, Opcode, Status, VirtualClock, costModel, createAdapter, type ListenAddress,
  type OnDemandConnections,
} from '@tsmpi/fabric';
import { AddressSpace } from '@tsmpi/vm';
import { PAGE, one, pattern } from './fixture.js';

/** Two nodes in this thread, one domain on each, both listening for connections made on demand. */
function twoNodes(kind: 'pinning' | 'odp') {
  const cost = costModel('hdr', {});
  const memories = [0, 1].map(() => new PhysicalMemory({ bytes: 8 * 1024 * 1024 }));
  const adapters = memories.map((memory, nodeId) => createAdapter(kind, { memory, cost, nodeId }));
  const wire = new InProcessWire(adapters);
  const listens = new Map<string, ListenAddress>();
  const ranks = [0, 1].map((n) => {
    const space = new AddressSpace(memories[n]!);
    const pd = adapters[n]!.openDomain(space, new VirtualClock(), { wire });
    const cq = pd.createCompletionQueue({ depth: 64 });
    const srq = pd.createSharedReceiveQueue({ depth: 16 });
    const conns: OnDemandConnections = pd.listen({ sendCq: cq, recvCq: cq, srq }, (node, domain) => listens.get(`${node}:${domain}`));
    listens.set(`${n}:${pd.id}`, conns.address);
    const buf = space.mmap(4 * PAGE);
    const mr = pd.registerMemory(buf, 4 * PAGE, Access.LOCAL_WRITE);
    return { space, pd, cq, srq, conns, buf, mr };
  });
  return { adapters, a: ranks[0]!, b: ranks[1]! };
}

describe.each(['pinning', 'odp'] as const)('%s: queue pairs connected on demand', (kind) => {
  it('the first connect creates both ends; the peer takes its end over and answers through it', () => {
    const { adapters, a, b } = twoNodes(kind);
    expect(adapters.map((x) => x.queuePairsCreated)).toEqual([0, 0]);
    const qa = a.conns.connect(b.conns.address);
    expect(adapters.map((x) => x.queuePairsCreated)).toEqual([1, 1]);

    a.space.write(a.buf, pattern(300, 1));
    b.srq.postRecv({ wrId: 7, sge: { lkey: b.mr.lkey, addr: b.buf, length: PAGE } });
    qa.postSend({ wrId: 8, sge: { lkey: a.mr.lkey, addr: a.buf, length: 300 } });
    const got = one(b.cq);
    expect(got).toMatchObject({ status: Status.SUCCESS, opcode: Opcode.RECV, byteLength: 300, wrId: 7 });
    expect(b.space.read(b.buf, 300)).toEqual(pattern(300, 1));
    expect(one(a.cq)).toMatchObject({ status: Status.SUCCESS, opcode: Opcode.SEND });

    // B's end is the QP the receive completed on; B takes it over and sends back without a new connection
    const qb = b.conns.accept(got.qpNum);
    expect(b.conns.accept(got.qpNum)).toBe(qb);
    b.space.write(b.buf + PAGE, pattern(100, 2));
    a.srq.postRecv({ wrId: 9, sge: { lkey: a.mr.lkey, addr: a.buf + PAGE, length: PAGE } });
    qb.postSend({ wrId: 10, sge: { lkey: b.mr.lkey, addr: b.buf + PAGE, length: 100 } });
    expect(one(a.cq)).toMatchObject({ status: Status.SUCCESS, byteLength: 100, wrId: 9, qpNum: qa.qpNum });
    expect(a.space.read(a.buf + PAGE, 100)).toEqual(pattern(100, 2));
    expect(adapters.map((x) => x.queuePairsCreated)).toEqual([1, 1]);
  });

  it('a send parked before the peer took its end over is delivered when the peer posts a receive', () => {
    const { a, b } = twoNodes(kind);
    const qa = a.conns.connect(b.conns.address);
    a.space.write(a.buf, pattern(64, 3));
    qa.postSend({ wrId: 1, sge: { lkey: a.mr.lkey, addr: a.buf, length: 64 } });
    expect(a.pd.stats.rnrParked).toBe(1);
    expect(b.pd.qps.size).toBe(0);
    b.srq.postRecv({ wrId: 2, sge: { lkey: b.mr.lkey, addr: b.buf, length: PAGE } });
    expect(one(b.cq)).toMatchObject({ status: Status.SUCCESS, byteLength: 64, wrId: 2 });
    expect(b.space.read(b.buf, 64)).toEqual(pattern(64, 3));
    expect(one(a.cq)).toMatchObject({ status: Status.SUCCESS, wrId: 1 });
    expect(b.pd.qps.size).toBe(1);
  });

  it('refuses what is not a listen address, and a second listen', () => {
    const { a, b } = twoNodes(kind);
    expect(() => a.conns.connect({ nodeId: 1, qpNum: 3, domainId: 1, space: {} } as never)).toThrow(/listen address/);
    expect(() => b.pd.listen({ sendCq: b.cq, recvCq: b.cq, srq: b.srq }, () => undefined)).toThrow(InvalidArgument);
    expect(() => b.pd.listen({ sendCq: b.cq, recvCq: b.cq }, () => undefined)).toThrow(/already listens/);
  });
});
