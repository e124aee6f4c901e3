/**
 * The intra-node comparison behind `tsmpi bench intranode` (issue 7): two processes of one node move
 * an n-byte buffer from A to B by each transport, in virtual time from the cost model:
 *
 *   shm    A copies into the shared ring, B copies out, chunk by chunk (double copy, pipelined)
 *   cma    B calls process_vm_readv on A's buffer (one call, single copy, no registration)
 *   xpmem  B copies out of its attachment of A's exported address space (single copy; attachment
 *          cache, pages faulted through A's page table on first touch or after A's memory changed)
 *   rdma   HCA loopback on a pinning adapter: both buffers through a registration cache fed by the
 *          mmu notifier, then an RDMA read (the inter-node path used inside the node)
 *
 * A single-copy read (cma, xpmem, rdma) cannot start before B knows A's address: each message pays
 * one control message first (the rendezvous RTS: shmLatencyUs through the ring for cma and xpmem,
 * o + L through the adapter for rdma), as MPI libraries do; shm sends the data right away.
 *
 * Every iteration's bytes are checked at B; the time reported is the average over the iterations
 * after the first (the first pays the cold costs: attach miss, faults, registration).
 */
import { AddressSpace, Allocator, PhysicalMemory } from '@tsmpi/vm';
import {
  Access, VirtualClock, createAdapter, createIntranode, type CostModel, type IntranodeEndpoint, type MemoryRegion,
  type XpmemSegment,
} from '@tsmpi/fabric';
import { createRegistrationPolicy } from '@tsmpi/rcache';

export const INTRANODE_TRANSPORTS = ['shm', 'cma', 'xpmem', 'rdma'] as const;
export type IntranodeTransport = (typeof INTRANODE_TRANSPORTS)[number];
/** reuse: one buffer (the OSU default); churn: A frees and allocates its buffer before every message. */
export type IntranodePattern = 'reuse' | 'churn';

export interface IntranodeCell {
  transport: IntranodeTransport;
  size: number;
  iterations: number;
  /** average virtual µs per message after the first */
  us: number;
  /** the first message, cold */
  firstUs: number;
  mbps: number;
  /** bytes that arrived wrong, over all iterations (must be 0) */
  bad: number;
  wallMs: number;
}

export interface IntranodeRunOptions {
  sizes: number[];
  cost: CostModel;
  pattern: IntranodePattern;
  /** iterations per size: min(max(floor(budget / size), 3), maxIterations) */
  maxIterations?: number;
  byteBudget?: number;
  transports?: readonly IntranodeTransport[];
}

const ALL = Access.LOCAL_WRITE | Access.REMOTE_WRITE | Access.REMOTE_READ;

interface Proc {
  space: AddressSpace;
  heap: Allocator;
  clock: VirtualClock;
  ep: IntranodeEndpoint;
}

export function runIntranode(o: IntranodeRunOptions, onCell?: (c: IntranodeCell) => void): IntranodeCell[] {
  const out: IntranodeCell[] = [];
  const maxSize = Math.max(...o.sizes);
  for (const transport of o.transports ?? INTRANODE_TRANSPORTS) {
    for (const size of o.sizes) {
      const iterations = Math.min(Math.max(Math.floor((o.byteBudget ?? 64 * 1024 * 1024) / size), 3), o.maxIterations ?? 50);
      const cell = measure(transport, size, iterations, o.cost, o.pattern, maxSize);
      out.push(cell);
      onCell?.(cell);
    }
  }
  return out;
}

function measure(transport: IntranodeTransport, size: number, iterations: number, cost: CostModel, pattern: IntranodePattern, maxSize: number): IntranodeCell {
  const started = performance.now();
  const memory = new PhysicalMemory({ bytes: Math.max(64 * 1024 * 1024, 8 * maxSize), pageSize: cost.pageSize });
  const intra = createIntranode({ memory, cost });
  const proc = (pid: number): Proc => {
    const space = new AddressSpace(memory, { memlockLimit: Infinity });
    const clock = new VirtualClock();
    return { space, heap: new Allocator(space), clock, ep: intra.open(space, clock, { pid }) };
  };
  const a = proc(0);
  const b = proc(1);
  let src = a.heap.malloc(size);
  const dst = b.heap.malloc(size);
  const move = mover(transport, a, b, cost);
  const expect = new Uint8Array(size);
  let bad = 0;
  let total = 0;
  let first = 0;
  for (let it = 0; it < iterations; it++) {
    if (pattern === 'churn' && it > 0) {
      a.heap.free(src);
      src = a.heap.malloc(size);
    }
    for (let i = 0; i < size; i++) expect[i] = (i * 31 + it * 7 + (i >> 9)) & 0xff;
    a.space.write(src, expect);
    const t0 = Math.max(a.clock.now, b.clock.now);
    a.clock.advanceTo(t0);
    b.clock.advanceTo(t0);
    const t1 = move(src, dst, size);
    const got = b.space.read(dst, size);
    for (let i = 0; i < size; i++) if (got[i] !== expect[i]) bad++;
    if (it === 0) first = t1 - t0;
    else total += t1 - t0;
  }
  const us = total / (iterations - 1);
  return { transport, size, iterations, us, firstUs: first, mbps: size / us, bad, wallMs: performance.now() - started };
}

/** One message A → B by `transport`; returns the virtual time at which B has every byte. */
function mover(transport: IntranodeTransport, a: Proc, b: Proc, cost: CostModel): (src: number, dst: number, n: number) => number {
  const peerA = a.ep.address;
  const peerB = b.ep.address;
  switch (transport) {
    case 'shm':
      return (src, dst, n) => {
        let sent = 0;
        let got = 0;
        while (got < n) {
          if (sent < n) sent += a.ep.shmSend(peerB, src + sent, n - sent, n);
          got += b.ep.shmRecv(peerA, dst + got, n - got, n);
        }
        return b.clock.now;
      };
    case 'cma':
      return (src, dst, n) => {
        b.clock.advance(cost.shmLatencyUs); // the RTS carrying A's address
        b.ep.cma.processVmReadv(peerA, [{ addr: dst, length: n }], [{ addr: src, length: n }]);
        return b.clock.now;
      };
    case 'xpmem': {
      const base = 0x10000;
      const segment: XpmemSegment = a.ep.xpmem.make(base, a.space.vaBytes - base);
      const cache = b.ep.attachCache();
      return (src, dst, n) => {
        b.clock.advance(cost.shmLatencyUs); // the RTS carrying A's address and segment id
        const r = cache.acquire(segment, src, n);
        r.attachment.copyTo(dst, r.attAddr, n);
        return b.clock.now;
      };
    }
    case 'rdma': {
      const adapter = createAdapter('pinning', { memory: a.space.memory, cost });
      const pdA = adapter.openDomain(a.space, a.clock);
      const pdB = adapter.openDomain(b.space, b.clock);
      const cq = pdB.createCompletionQueue({ depth: 64 });
      const cqA = pdA.createCompletionQueue({ depth: 64 });
      const qa = pdA.createQueuePair({ sendCq: cqA, recvCq: cqA });
      const qb = pdB.createQueuePair({ sendCq: cq, recvCq: cq });
      qa.connect(qb.address);
      qb.connect(qa.address);
      const policy = (p: Proc, pd: typeof pdA) => createRegistrationPolicy<MemoryRegion>('notifier', {
        ops: {
          register: (start: number, end: number, access: number) => pd.registerMemory(start, end - start, access),
          deregister: (mr: MemoryRegion) => pd.deregister(mr),
        },
        space: p.space,
        pageSize: cost.pageSize,
        charge: (us: number) => void p.clock.advance(us),
        now: () => p.clock.now,
        cost: { hitUs: cost.rcacheHitUs, drainUs: cost.notifierDrainUs },
      });
      const cacheA = policy(a, pdA);
      const cacheB = policy(b, pdB);
      let wr = 1;
      return (src, dst, n) => {
        const ra = cacheA.acquire(src, n, ALL); // the sender's registration (its RTS carries the rkey)
        // the RTS through the adapter: o + L after A registered
        b.clock.advanceTo(a.clock.now + cost.overheadUs + (cost.loopbackLatencyUs ?? cost.latencyUs));
        const rb = cacheB.acquire(dst, n, ALL);
        qb.rdmaRead({ wrId: wr++, sge: { lkey: rb.handle.lkey, addr: dst, length: n }, remoteAddr: src, rkey: ra.handle.rkey });
        const [c] = cq.poll(1);
        if (c === undefined || c.status !== 0) throw new Error(`RDMA loopback read failed: ${JSON.stringify(c)}`);
        b.clock.advanceTo(c.time);
        cacheA.release(ra);
        cacheB.release(rb);
        return c.time;
      };
    }
  }
}
