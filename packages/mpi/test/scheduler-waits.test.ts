import { describe, expect, it, vi } from 'vitest';
import { AddressSpace, PhysicalMemory } from '@tsmpi/vm';
import { VirtualClock, costModel, createAdapter, holdDoorbells, releaseDoorbells } from '@tsmpi/fabric';
import { Horizon, TimingMode } from '../src/timing/horizon.js';
import { Scheduler } from '../src/p2p/scheduler.js';

/** Two ranks' schedulers over one horizon (no completion queues: watermarks are Infinity). */
function pair() {
  const handle = Horizon.create(2);
  const [h0, h1] = [Horizon.attach(handle, () => Infinity), Horizon.attach(handle, () => Infinity)];
  return { s0: new Scheduler(0, h0, () => Infinity), s1: new Scheduler(1, h1, () => Infinity), h0 };
}

/**
 * A completion queue whose owner has announced that it sleeps (what CompletionQueue.wait does before
 * Atomics.wait; C_WAITERS is word 9 of its row), and a queue pair that pushes to it.
 */
function sleepingOwner() {
  const memory = new PhysicalMemory({ bytes: 4 * 1024 * 1024 });
  const adapter = createAdapter('pinning', { memory, cost: costModel('hdr', {}) });
  const open = () => adapter.openDomain(new AddressSpace(memory), new VirtualClock());
  const [pa, pb] = [open(), open()];
  const [ca, cb] = [pa.createCompletionQueue({ depth: 16 }), pb.createCompletionQueue({ depth: 16 })];
  const qa = pa.createQueuePair({ sendCq: ca, recvCq: ca });
  const qb = pb.createQueuePair({ sendCq: cb, recvCq: cb });
  qa.connect(qb.address);
  qb.connect(qa.address);
  const { state, row } = ca as unknown as { state: { cqs: Int32Array }; row: number };
  Atomics.add(state.cqs, row + 9, 1);
  // a zero-length RDMA write completes on its poster's queue: the sleeping owner's
  const push = () => qa.rdmaWrite({ wrId: 1, sge: { lkey: 0, addr: 0, length: 0 }, remoteAddr: 0, rkey: 0 });
  return { push, cq: ca };
}

describe('Scheduler: what a waiting rank sleeps on', () => {
  it('a rank with nothing in its timeline is not held back, whatever the limit: it waits for an event (its doorbell)', () => {
    const { s0, s1 } = pair();
    s1.enter(TimingMode.RUNNING, 0);
    expect(s0.pending).toBe(0);
    expect(s0.heldBack(Infinity)).toBe(false);
    expect(s0.heldBack(10)).toBe(false);
  });

  it('a post that another rank can still precede waits in the timeline and holds the rank back up to its time', () => {
    const { s0, s1 } = pair();
    s1.enter(TimingMode.RUNNING, 2); // rank 1 may still act at 2
    let ran = 0;
    s0.at(5, () => ran++);
    expect(ran).toBe(0);
    expect(s0.heldBack(Infinity)).toBe(true);
    expect(s0.heldBack(4)).toBe(false);
    s1.enter(TimingMode.BLOCKED, 2); // nothing pending: rank 1 acts again only on an event
    expect(s0.advance(Infinity)).toBe('ran');
    expect(ran).toBe(1);
    expect(s0.heldBack(Infinity)).toBe(false);
  });
});

describe('Scheduler: what a publication costs and whom it wakes', () => {
  it('a row published again unchanged moves nothing a sleeper watches; a changed row and a risen watermark do', () => {
    const { s0, h0 } = pair();
    const e0 = h0.epochOf(0);
    s0.enter(TimingMode.RUNNING, 3);
    const e1 = h0.epochOf(0);
    expect(e1).not.toBe(e0);
    s0.enter(TimingMode.RUNNING, 3);
    s0.publish();
    expect(h0.epochOf(0)).toBe(e1);
    expect(h0.bound(0)).toBe(3);
    s0.enter(TimingMode.BLOCKED, 3);
    expect(h0.epochOf(0)).not.toBe(e1);
    expect(h0.bound(0)).toBe(Infinity);
    const e2 = h0.epochOf(0);
    s0.announce();
    expect(h0.epochOf(0)).not.toBe(e2);
  });

  it("a process's publications count on the node's epoch only once a network thread watches it", () => {
    const { s0, h0 } = pair();
    s0.enter(TimingMode.RUNNING, 1);
    const seen = h0.nodeEpoch;
    s0.enter(TimingMode.RUNNING, 2);
    expect(h0.nodeEpoch).toBe(seen);
    h0.watchNode();
    s0.enter(TimingMode.RUNNING, 3);
    expect(h0.nodeEpoch).toBe(seen + 1);
  });

  it("a send's wake-ups wait for the rank's next changed publication, not its own", () => {
    const { s0 } = pair();
    const owner = sleepingOwner();
    const notify = vi.spyOn(Atomics, 'notify');
    try {
      s0.enter(TimingMode.RUNNING, 1);
      const before = notify.mock.calls.length;
      // what TimedWaits.act does around a send: the push, then the clock it left the rank at
      holdDoorbells();
      owner.push();
      s0.enter(TimingMode.RUNNING, 2, false);
      releaseDoorbells(false);
      expect(notify.mock.calls.length).toBe(before);
      s0.enter(TimingMode.RUNNING, 2); // the next call at the same clock: nothing moved
      expect(notify.mock.calls.length).toBe(before);
      s0.enter(TimingMode.BLOCKED, 2); // it waits: now the owner may act past the send
      expect(notify.mock.calls.length).toBe(before + 1);
    } finally {
      notify.mockRestore();
    }
    expect(owner.cq.poll()).toHaveLength(1);
  });
});
