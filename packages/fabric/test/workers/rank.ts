/*
 * One rank of the two-thread tests. Role 'target' owns a registered buffer and posts receives;
 * role 'initiator' reads, writes and sends to it from its own thread. Setup messages (QP
 * addresses, rkeys) go through the parent; the data path is shared memory only.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AddressSpace, PhysicalMemory } from '@tsmpi/vm';
import { Access, Adapter, VirtualClock, type Completion, type CompletionQueue, type QpAddress } from '@tsmpi/fabric';

interface Data {
  entry: string;
  role: 'target' | 'initiator' | 'churn';
  memory: Parameters<typeof PhysicalMemory.attach>[0];
  adapter: Parameters<typeof Adapter.attach>[0];
  /** [0] initiator done, [1] target may stop migrating */
  ctl: SharedArrayBuffer;
  rounds: number;
}

const d = workerData as Data;
const port = parentPort!;
const ALL = Access.LOCAL_WRITE | Access.REMOTE_READ | Access.REMOTE_WRITE;
const LEN = 64 * 1024;
const ctl = new Int32Array(d.ctl);

const next = <T>(): Promise<T> => new Promise((resolve) => port.once('message', resolve as (v: unknown) => void));
const pattern = (seed: number): Uint8Array => {
  const out = new Uint8Array(LEN);
  for (let i = 0; i < LEN; i++) out[i] = (i * 13 + seed) & 0xff;
  return out;
};
const same = (x: Uint8Array, y: Uint8Array): boolean => x.length === y.length && x.every((v, i) => v === y[i]);

function waitOne(cq: CompletionQueue): Completion {
  for (;;) {
    const seen = cq.doorbell;
    const cs = cq.poll(1);
    if (cs.length === 1) return cs[0]!;
    cq.wait(seen, 100);
  }
}

const memory = PhysicalMemory.attach(d.memory);
if (d.role === 'churn') {
  // Register and deregister as fast as possible while another thread does the same on the same
  // adapter: slot claims and the shared arena must never hand one entry to two registrations.
  const adapter = Adapter.attach(d.adapter, memory);
  const space = new AddressSpace(memory, { memlockLimit: Infinity });
  const pd = adapter.openDomain(space, new VirtualClock());
  const buf = space.mmap(64 * 4096);
  // ctl[2 + slot]: which thread holds the slot now. A claim that finds it held is a double hand-out.
  const me = (workerData as { id: number }).id;
  let doubleClaims = 0;
  const live: ReturnType<typeof pd.registerMemory>[] = [];
  const release = (mr: ReturnType<typeof pd.registerMemory>): void => {
    Atomics.store(ctl, 2 + Math.floor(mr.lkey / 2 ** 14), 0);
    pd.deregister(mr);
  };
  for (let i = 0; i < d.rounds; i++) {
    const pages = 1 + ((i * 7) % 64);
    const mr = pd.registerMemory(buf, pages * 4096, ALL);
    if (Atomics.compareExchange(ctl, 2 + Math.floor(mr.lkey / 2 ** 14), 0, me) !== 0) doubleClaims++;
    live.push(mr);
    if (live.length > 8) release(live.shift()!);
  }
  for (const mr of live) release(mr);
  const stats = pd.stats;
  pd.close();
  port.postMessage({ doubleClaims, stats });
  process.exit(0);
}
const adapter = Adapter.attach(d.adapter, memory);
const space = new AddressSpace(memory, { memlockLimit: Infinity });
const pd = adapter.openDomain(space, new VirtualClock());
const cq = pd.createCompletionQueue();
const qp = pd.createQueuePair({ sendCq: cq, recvCq: cq });
port.postMessage({ address: qp.address });
qp.connect((await next<{ peer: QpAddress }>()).peer);

if (d.role === 'target') {
  const buf = space.mmap(2 * LEN);
  space.write(buf, pattern(1));
  const mr = pd.registerMemory(buf, 2 * LEN, ALL);
  const inbox = space.mmap(4096);
  const imr = pd.registerMemory(inbox, 4096, Access.LOCAL_WRITE);
  qp.postRecv({ wrId: 77, sge: { lkey: imr.lkey, addr: inbox, length: 4096 } });
  port.postMessage({ buf, rkey: mr.rkey });
  // Move the first half around under the initiator's reads until it is done.
  let migrations = 0;
  let moved = 0;
  let refused = 0;
  while (Atomics.load(ctl, 0) === 0) {
    const r = space.migrate(buf, LEN);
    migrations++;
    moved += r.moved;
    refused += r.refused.length;
    if (migrations >= d.rounds * 4) Atomics.wait(ctl, 0, 0, 5);
  }
  const recv = waitOne(cq);
  const msg = new TextDecoder().decode(space.read(inbox, recv.byteLength));
  port.postMessage({
    migrations, moved, refused, recv: { status: recv.status, wrId: recv.wrId, immData: recv.immData, msg },
    secondHalfWritten: same(space.read(buf + LEN, LEN), pattern(2)), stats: pd.stats,
  });
} else {
  const { buf, rkey } = await next<{ buf: number; rkey: number }>();
  const local = space.mmap(LEN);
  const lmr = pd.registerMemory(local, LEN, ALL);
  let good = 0;
  let bad = 0;
  const statuses = new Set<number>();
  for (let i = 0; i < d.rounds; i++) {
    space.fill(local, LEN, 0);
    qp.rdmaRead({ wrId: i, sge: { lkey: lmr.lkey, addr: local, length: LEN }, remoteAddr: buf, rkey });
    const c = waitOne(cq);
    statuses.add(c.status);
    if (c.status === 0 && same(space.read(local, LEN), pattern(1))) good++;
    else bad++;
  }
  space.write(local, pattern(2));
  qp.rdmaWrite({ wrId: 1000, sge: { lkey: lmr.lkey, addr: local, length: LEN }, remoteAddr: buf + LEN, rkey });
  const w = waitOne(cq);
  const note = new TextEncoder().encode('hello from the other thread');
  space.write(local, note);
  qp.postSend({ wrId: 2000, sge: { lkey: lmr.lkey, addr: local, length: note.length }, immData: 42 });
  const s = waitOne(cq);
  Atomics.store(ctl, 0, 1);
  Atomics.notify(ctl, 0);
  port.postMessage({ good, bad, statuses: [...statuses], write: w.status, send: s.status, stats: pd.stats });
}
