import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { PhysicalMemory } from '@tsmpi/vm';
import { describe, expect, it } from 'vitest';
import { createAdapter, Status } from '@tsmpi/fabric';

const bootstrap = fileURLToPath(new URL('./workers/bootstrap.mjs', import.meta.url));
const entry = new URL('./workers/rank.ts', import.meta.url).href;

function start(role: 'target' | 'initiator' | 'churn', shared: object): { worker: Worker; next: () => Promise<any>; done: Promise<number> } {
  const worker = new Worker(bootstrap, { workerData: { entry, role, ...shared } });
  const queue: unknown[] = [];
  const waiters: Array<(v: unknown) => void> = [];
  let failure: unknown;
  const fail: Array<(e: unknown) => void> = [];
  worker.on('message', (m) => (waiters.length > 0 ? waiters.shift()!(m) : queue.push(m)));
  worker.on('error', (e) => {
    failure = e;
    for (const f of fail) f(e);
  });
  const next = () => new Promise((resolve, reject) => {
    if (failure !== undefined) return reject(failure);
    if (queue.length > 0) return resolve(queue.shift());
    waiters.push(resolve);
    fail.push(reject);
  });
  const done = new Promise<number>((resolve) => worker.on('exit', resolve));
  return { worker, next, done };
}

/*
 * Two ranks on two threads share one node's memory and adapter. The initiator RDMA-reads the
 * target's buffer while the target's own thread migrates those pages, then writes and sends.
 *
 *   target thread:    register ─ post recv ─ migrate, migrate, migrate, ... ─ poll recv
 *   initiator thread:             read, read, read, ... ─ write ─ send ─ done
 */
describe.each(['pinning', 'odp'] as const)('%s: DMA between two worker threads', (kind) => {
  it('delivers the right bytes every time while the target migrates its pages', async () => {
    const memory = new PhysicalMemory({ bytes: 16 * 1024 * 1024 });
    const adapter = createAdapter(kind, { memory });
    const rounds = 40;
    const shared = { memory: memory.handle, adapter: adapter.handle, ctl: new SharedArrayBuffer(8), rounds };
    const t = start('target', shared);
    const i = start('initiator', shared);
    try {
      const [ta, ia] = [await t.next(), await i.next()];
      t.worker.postMessage({ peer: ia.address });
      i.worker.postMessage({ peer: ta.address });
      i.worker.postMessage(await t.next()); // buf + rkey
      const [ir, tr] = [await i.next(), await t.next()];
      expect(ir).toMatchObject({ good: rounds, bad: 0, statuses: [Status.SUCCESS], write: Status.SUCCESS, send: Status.SUCCESS });
      expect(tr.recv).toEqual({ status: Status.SUCCESS, wrId: 77, immData: 42, msg: 'hello from the other thread' });
      expect(tr.secondHalfWritten).toBe(true);
      expect(tr.migrations).toBeGreaterThan(0);
      if (kind === 'pinning') {
        expect(tr.moved).toBe(0); // pinned pages never move
        expect(tr.refused).toBe(tr.migrations * 16);
      } else {
        expect(tr.refused).toBe(0); // ODP memory migrates freely
        expect(tr.moved).toBe(tr.migrations * 16);
        expect(ir.stats.odpFaults).toBe(1); // the initiator's own buffer, once
        expect(tr.stats.odpFaults).toBeGreaterThanOrEqual(1);
      }
      expect(ir.stats).toMatchObject({ readOps: rounds, readBytes: rounds * 64 * 1024, writeOps: 1, sendOps: 1 });
      expect(tr.stats).toMatchObject({ recvOps: 1, recvBytes: 27 });
      expect(await Promise.all([t.done, i.done])).toEqual([0, 0]);
    } finally {
      await t.worker.terminate();
      await i.worker.terminate();
    }
  });
});

describe.each(['pinning', 'odp'] as const)('%s: two threads registering on one adapter at once', (kind) => {
  it('never hands one MR slot or arena chunk to two registrations, and leaks nothing', async () => {
    const memory = new PhysicalMemory({ bytes: 16 * 1024 * 1024 });
    const adapter = createAdapter(kind, { memory, limits: { maxMemoryRegions: 64, arenaBytes: 1024 * 1024 } });
    const rounds = 2000;
    const shared = { memory: memory.handle, adapter: adapter.handle, ctl: new SharedArrayBuffer(4 * (2 + 65)), rounds };
    const x = start('churn', { ...shared, id: 1 });
    const y = start('churn', { ...shared, id: 2 });
    try {
      const [rx, ry] = [await x.next(), await y.next()];
      for (const r of [rx, ry]) {
        expect(r.doubleClaims).toBe(0);
        expect(r.stats).toMatchObject({ registrations: rounds, deregistrations: rounds, registeredBytes: 0, pinnedPages: 0 });
      }
      expect(await Promise.all([x.done, y.done])).toEqual([0, 0]);
      expect(memory.stats.pinned).toBe(0);
      expect(adapter.stats.registrations).toBe(0); // both domains closed: nothing open to sum
    } finally {
      await x.worker.terminate();
      await y.worker.terminate();
    }
  });
});
