import { describe, expect, it } from 'vitest';
import { AddressSpace, Allocator, PhysicalMemory } from '@tsmpi/vm';
import {
  IntranodeError, VirtualClock, cmaCallCost, pagesSpanned, costModel, createIntranode, shmCopyUs, shmWatermarkReader, xpmemCopyUs,
  type Intranode, type IntranodeEndpoint,
} from '@tsmpi/fabric';

const PS = 4096;
const cost = costModel('hdr');

interface Proc {
  space: AddressSpace;
  heap: Allocator;
  clock: VirtualClock;
  ep: IntranodeEndpoint;
}

function node(): { memory: PhysicalMemory; intra: Intranode; proc: (pid: number, job?: number) => Proc } {
  const memory = new PhysicalMemory({ bytes: 64 * 1024 * 1024 });
  const intra = createIntranode({ memory, cost });
  return {
    memory,
    intra,
    proc: (pid, job = 0) => {
      const space = new AddressSpace(memory);
      const clock = new VirtualClock();
      return { space, heap: new Allocator(space), clock, ep: intra.open(space, clock, { pid, job }) };
    },
  };
}

function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return out;
}

/** Sizes around page boundaries, placed at an offset that is not page-aligned. */
const SIZES = [1, PS - 1, PS, PS + 1, 3 * PS + 5, 100_003];

function errno(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof IntranodeError) return e.code;
    throw e;
  }
  return 'no error';
}

describe('shm: double copy through the per-pair ring', () => {
  it('delivers every byte for sizes across page boundaries, chunk by chunk', () => {
    const { proc } = node();
    const a = proc(0);
    const b = proc(1);
    for (const [i, n] of SIZES.entries()) {
      const src = a.heap.malloc(n + 100) + 37;
      const dst = b.heap.malloc(n + 100) + 11;
      const data = pattern(n, i);
      a.space.write(src, data);
      let sent = 0;
      let got = 0;
      while (got < n) {
        sent += a.ep.shmSend(b.ep.address, src + sent, n - sent, n);
        got += b.ep.shmRecv(a.ep.address, dst + got, n - got, n);
      }
      expect(b.space.read(dst, n)).toEqual(data);
    }
    const chunks = SIZES.reduce((s, n) => s + Math.ceil(n / 8192), 0);
    expect(a.ep.stats.shmChunks).toBe(chunks);
    expect(a.ep.stats.shmSendBytes).toBe(SIZES.reduce((s, n) => s + n, 0));
    expect(b.ep.stats.shmRecvBytes).toBe(SIZES.reduce((s, n) => s + n, 0));
    // 100_003 bytes is 13 chunks: the 16-slot ring never filled
    expect(a.ep.stats.shmRingFull).toBe(0);
  });

  it('pipelines: the receiver finishes one chunk copy after the sender, not a whole message later', () => {
    const { proc } = node();
    const a = proc(0);
    const b = proc(1);
    const n = 3 * 8192;
    const src = a.space.mmap(n, { populate: true });
    const dst = b.space.mmap(n, { populate: true });
    expect(a.ep.shmSend(b.ep.address, src, n)).toBe(n);
    expect(b.ep.shmRecv(a.ep.address, dst, n)).toBe(n);
    const c = shmCopyUs(cost, n, 8192);
    expect(a.clock.now).toBeCloseTo(3 * c, 9);
    // chunk k is ready at (k + 1)c + L; the receiver's copies follow each other
    expect(b.clock.now).toBeCloseTo(c + cost.shmLatencyUs + 3 * c, 9);
  });

  it('a full ring takes what fits and the sender waits (in virtual time) for the slot the receiver freed', () => {
    const { proc } = node();
    const a = proc(0);
    const b = proc(1);
    const n = 20 * 8192; // 20 chunks, 16 slots
    const src = a.space.mmap(n);
    const dst = b.space.mmap(n);
    a.space.write(src, pattern(n, 9));
    expect(a.ep.shmSend(b.ep.address, src, n)).toBe(16 * 8192);
    // full for the thread, not in virtual time: no chunk has waited for the receiver yet
    expect(a.ep.stats.shmRingFull).toBe(0);
    expect(a.ep.stats.shmSends).toBe(0);
    b.clock.advance(1000); // the receiver comes late
    expect(b.ep.shmRecv(a.ep.address, dst, n)).toBe(16 * 8192);
    const freed = b.clock.now;
    expect(a.ep.shmSend(b.ep.address, src + 16 * 8192, 4 * 8192, n)).toBe(4 * 8192);
    expect(a.clock.now).toBeGreaterThan(freed - 15 * shmCopyUs(cost, n, 8192));
    // slot 0 was emptied after the sender reached it; the next three, in step with its copies
    expect(a.ep.stats.shmRingFull).toBe(1);
    expect(a.ep.stats.shmSends).toBe(1);
    expect(b.ep.shmRecv(a.ep.address, dst + 16 * 8192, 4 * 8192, n)).toBe(4 * 8192);
    expect(b.space.read(dst, n)).toEqual(pattern(n, 9));
  });

  it('the watermark: lowered to the earliest READY a sender pushes, raised by the receiver only to what is left', () => {
    const { proc, intra } = node();
    const a = proc(0);
    const b = proc(1);
    const c = proc(2);
    const src = a.space.mmap(3 * 8192, { populate: true });
    const srcC = c.space.mmap(8192, { populate: true });
    const dst = b.space.mmap(4 * 8192, { populate: true });
    expect(b.ep.shmWatermark).toBe(Infinity);
    a.clock.advance(5);
    a.ep.shmSend(b.ep.address, src, 3 * 8192);
    const copy = shmCopyUs(cost, 3 * 8192, 8192);
    const firstReady = 5 + copy + cost.shmLatencyUs;
    expect(b.ep.shmWatermark).toBeCloseTo(firstReady, 9);
    c.clock.advance(2);
    c.ep.shmSend(b.ep.address, srcC, 100);
    const cReady = 2 + shmCopyUs(cost, 100, 100) + cost.shmLatencyUs;
    expect(b.ep.shmWatermark).toBeCloseTo(cReady, 9);
    // popping alone raises nothing: the receiver retires once what it popped is in its own books
    expect(b.ep.shmRecv(c.ep.address, dst, 100)).toBe(100);
    expect(b.ep.shmWatermark).toBeCloseTo(cReady, 9);
    b.ep.shmRetire();
    expect(b.ep.shmWatermark).toBeCloseTo(firstReady, 9);
    expect(b.ep.shmRecv(a.ep.address, dst, 8192, 3 * 8192)).toBe(8192);
    b.ep.shmRetire();
    expect(b.ep.shmWatermark).toBeCloseTo(firstReady + copy, 9); // the second chunk's READY
    expect(b.ep.shmRecv(a.ep.address, dst, 2 * 8192, 3 * 8192)).toBe(2 * 8192);
    b.ep.shmRetire();
    expect(b.ep.shmWatermark).toBe(Infinity);
    expect(shmWatermarkReader(intra.handle)(b.ep.pid)).toBe(Infinity);
  });

  it('refuses a peer of another job (EPERM) and an unknown pid (ESRCH)', () => {
    const { proc } = node();
    const a = proc(0, 1);
    const b = proc(1, 2);
    expect(errno(() => a.ep.shmSend(b.ep.address, 0, 1))).toBe('EPERM');
    expect(errno(() => a.ep.shmSend({ ...b.ep.address, pid: 7 }, 0, 1))).toBe('ESRCH');
    expect(errno(() => a.ep.shmSend({ ...b.ep.address, pid: 1000 }, 0, 1))).toBe('ESRCH');
  });
});

describe('cma: process_vm_readv / process_vm_writev', () => {
  it('readv copies every byte across page boundaries through both page tables', () => {
    const { proc } = node();
    const a = proc(0);
    const b = proc(1);
    for (const [i, n] of SIZES.entries()) {
      const remote = a.heap.malloc(n + 64) + 5;
      const local = b.heap.malloc(n + 64) + 19;
      a.space.write(remote, pattern(n, i));
      const before = b.clock.now;
      expect(b.ep.cma.processVmReadv(a.ep.address, [{ addr: local, length: n }], [{ addr: remote, length: n }])).toBe(n);
      expect(b.space.read(local, n)).toEqual(pattern(n, i));
      const pages = Math.floor((remote + n - 1) / PS) - Math.floor(remote / PS) + 1;
      // a piece never spans a remote page, so pages counted = remote pages spanned
      expect(b.clock.now - before).toBeCloseTo(cmaCallCost(cost, n, pages), 9);
    }
    expect(b.ep.stats.cmaCalls).toBe(SIZES.length);
    expect(b.ep.stats.cmaBytes).toBe(SIZES.reduce((s, n) => s + n, 0));
    expect(b.ep.stats.cmaPartial).toBe(0);
  });

  it('writev scatters several local iovecs into several remote ones, in order', () => {
    const { proc } = node();
    const a = proc(0);
    const b = proc(1);
    const data = pattern(3 * PS + 300, 4);
    const l = b.space.mmap(4 * PS);
    b.space.write(l + 100, data);
    const r = a.space.mmap(8 * PS);
    const local = [{ addr: l + 100, length: 1000 }, { addr: l + 1100, length: 0 }, { addr: l + 1100, length: data.length - 1000 }];
    const remote = [{ addr: r + PS - 7, length: 2 * PS }, { addr: r + 5 * PS + 3, length: data.length - 2 * PS }];
    expect(b.ep.cma.processVmWritev(a.ep.address, local, remote)).toBe(data.length);
    expect(a.space.read(r + PS - 7, 2 * PS)).toEqual(data.subarray(0, 2 * PS));
    expect(a.space.read(r + 5 * PS + 3, data.length - 2 * PS)).toEqual(data.subarray(2 * PS));
  });

  it('EFAULT when the remote range is unmapped and nothing could be copied', () => {
    const { proc } = node();
    const a = proc(0);
    const b = proc(1);
    const r = a.space.mmap(2 * PS);
    a.space.munmap(r, 2 * PS);
    const local = b.space.mmap(PS);
    expect(errno(() => b.ep.cma.processVmReadv(a.ep.address, [{ addr: local, length: 100 }], [{ addr: r + 10, length: 100 }]))).toBe('EFAULT');
    expect(b.ep.stats.cmaErrors).toBe(1);
    // the call was still made and paid for
    expect(b.clock.now).toBeCloseTo(cost.cmaCallUs, 9);
  });

  it('a remote range that runs into a hole is a partial transfer up to the hole', () => {
    const { proc } = node();
    const a = proc(0);
    const b = proc(1);
    const r = a.space.mmap(3 * PS);
    a.space.write(r, pattern(3 * PS, 2));
    a.space.munmap(r + 2 * PS, PS); // third page gone
    const local = b.space.mmap(4 * PS);
    // one element: the copy stops at the page boundary inside it
    expect(b.ep.cma.processVmReadv(a.ep.address, [{ addr: local, length: 3 * PS }], [{ addr: r + 100, length: 2 * PS + 50 }])).toBe(2 * PS - 100);
    expect(b.space.read(local, 2 * PS - 100)).toEqual(pattern(3 * PS, 2).subarray(100, 2 * PS));
    // two elements, the second unmapped: the first is delivered, nothing after the failure
    const two = [{ addr: r, length: 500 }, { addr: r + 2 * PS, length: 500 }, { addr: r + 600, length: 10 }];
    expect(b.ep.cma.processVmReadv(a.ep.address, [{ addr: local, length: 1010 }], two)).toBe(500);
    expect(b.ep.stats.cmaPartial).toBe(2);
    // a bad local buffer ends the copy too (EFAULT when nothing moved)
    expect(errno(() => b.ep.cma.processVmReadv(a.ep.address, [{ addr: 0x10000, length: 10 }], [{ addr: r, length: 10 }]))).toBe('EFAULT');
  });

  it('is permitted only within the job, on this node, to live processes', () => {
    const { proc, intra } = node();
    const a = proc(0, 5);
    const b = proc(1, 6);
    const c = proc(2, 5);
    const r = a.space.mmap(PS);
    const l = b.space.mmap(PS);
    expect(errno(() => b.ep.cma.processVmReadv(a.ep.address, [{ addr: l, length: 8 }], [{ addr: r, length: 8 }]))).toBe('EPERM');
    expect(errno(() => c.ep.cma.processVmReadv({ ...a.ep.address, nodeId: 3 }, [{ addr: l, length: 8 }], [{ addr: r, length: 8 }]))).toBe('ESRCH');
    const lc = c.space.mmap(PS);
    expect(c.ep.cma.processVmReadv(a.ep.address, [{ addr: lc, length: 8 }], [{ addr: r, length: 8 }])).toBe(8);
    a.space.exit();
    expect(errno(() => c.ep.cma.processVmReadv(a.ep.address, [{ addr: lc, length: 8 }], [{ addr: r, length: 8 }]))).toBe('ESRCH');
    expect(intra.nodeId).toBe(0);
  });
});

describe('xpmem: export, attach, coherence through the exporter\'s mmu notifier', () => {
  it('an attachment reads and writes the exporter\'s frames, across page boundaries', () => {
    const { proc, memory } = node();
    const a = proc(0);
    const b = proc(1);
    const len = 8 * PS;
    const buf = a.space.mmap(len);
    a.space.write(buf, pattern(len, 3));
    const seg = a.ep.xpmem.make(buf, len, 'rw');
    const apid = b.ep.xpmem.get(seg, 'rw');
    const att = b.ep.xpmem.attach(apid, 100, 6 * PS);
    expect(b.clock.now).toBeCloseTo(cost.xpmemAttachMissUs, 9);
    for (const n of SIZES.filter((s) => s <= 5 * PS)) {
      const dst = b.heap.malloc(n + 10) + 3;
      const at = att.addr + 77;
      att.copyTo(dst, at, n);
      expect(b.space.read(dst, n)).toEqual(pattern(len, 3).subarray(177, 177 + n));
    }
    // the same frames, not a copy of them
    expect(memory.refCount(a.space.translate(buf + PS)!)).toBe(1);
    att.write(att.addr + PS, new Uint8Array([9, 8, 7]));
    expect(a.space.read(buf + 100 + PS, 3)).toEqual(new Uint8Array([9, 8, 7]));
    // the reads touched offsets 177 .. 12470 (pages 0..3, read-faulted); the write needed page 1 writable
    expect(b.ep.stats.xpmemFaultPages).toBe(4 + 1);
    b.ep.xpmem.detach(att);
    expect(b.ep.stats).toMatchObject({ xpmemAttaches: 1, xpmemDetaches: 1 });
  });

  it('after the exporter frees and reallocates at the same address, the importer reads the new frames, never the old', () => {
    const { proc } = node();
    const a = proc(0);
    const b = proc(1);
    const len = 256 * 1024; // above the mmap threshold: free() unmaps, malloc() maps again
    const p = a.heap.malloc(len);
    a.space.write(p, pattern(len, 1));
    const seg = a.ep.xpmem.make(0x10000, a.space.vaBytes - 0x10000, 'rw'); // the whole address space, as UCX does
    const cache = b.ep.attachCache();
    const first = cache.acquire(seg, p, len);
    const out = b.space.mmap(len);
    first.attachment.copyTo(out, first.attAddr, len);
    expect(b.space.read(out, len)).toEqual(pattern(len, 1));
    const oldFrame = a.space.translate(p)!;

    a.heap.free(p);
    const q = a.heap.malloc(len);
    expect(q).toBe(p);
    a.space.write(q, pattern(len, 2));
    expect(a.space.translate(q)).not.toBe(oldFrame);
    const spanned = pagesSpanned(p, len, PS); // malloc's header puts p 16 bytes into its mapping
    expect(a.ep.stats.xpmemZappedPages).toBe(spanned);
    expect(a.ep.stats.xpmemInvalidations).toBe(1);

    const again = cache.acquire(seg, q, len);
    expect(again.attachment).toBe(first.attachment);
    again.attachment.copyTo(out, again.attAddr, len);
    expect(b.space.read(out, len)).toEqual(pattern(len, 2));
    expect(b.ep.stats).toMatchObject({ attachCacheHits: 1, attachCacheMisses: 1, xpmemFaultPages: 2 * spanned });
  });

  it('an unmapped range fails cleanly (EFAULT); migration keeps the attachment coherent', () => {
    const { proc } = node();
    const a = proc(0);
    const b = proc(1);
    const buf = a.space.mmap(4 * PS);
    a.space.write(buf, pattern(4 * PS, 6));
    const seg = a.ep.xpmem.make(buf, 4 * PS);
    const att = b.ep.xpmem.attach(b.ep.xpmem.get(seg), 0, 4 * PS);
    expect(att.read(att.addr, 4 * PS)).toEqual(pattern(4 * PS, 6));
    const moved = a.space.migrate(buf, 4 * PS);
    expect(moved.moved).toBe(4);
    a.space.write(buf + 5, new Uint8Array([42]));
    expect(att.read(att.addr + 5, 1)).toEqual(new Uint8Array([42]));
    a.space.munmap(buf + PS, PS);
    expect(errno(() => att.read(att.addr + PS, 10))).toBe('EFAULT');
    expect(att.read(att.addr + 2 * PS, 4)).toEqual(pattern(4 * PS, 6).subarray(2 * PS, 2 * PS + 4));
  });

  it('the attachment cache counts hits and misses and serves neighbours from one aligned attachment', () => {
    const { proc } = node();
    const a = proc(0);
    const b = proc(1);
    const seg = a.ep.xpmem.make(0x10000, a.space.vaBytes - 0x10000);
    const buf = a.space.mmap(256 * 1024);
    const base = Math.ceil(buf / 65536) * 65536;
    const cache = b.ep.attachCache({ alignBytes: 65536, maxAttachments: 2 });
    const x = cache.acquire(seg, base + 100, 1000);
    const y = cache.acquire(seg, base + 5000, 60000); // same 64 KiB block
    expect(y.attachment).toBe(x.attachment);
    const z = cache.acquire(seg, base + 65536, 10); // next block
    expect(z.attachment).not.toBe(x.attachment);
    cache.acquire(seg, base + 2 * 65536, 10); // third: evicts the least recently used (x)
    expect(b.ep.stats).toMatchObject({ attachCacheHits: 1, attachCacheMisses: 3, attachCacheEvictions: 1, xpmemDetaches: 1 });
    expect(x.attachment.live).toBe(false);
    expect(b.clock.now).toBeCloseTo(3 * cost.xpmemAttachMissUs + cost.xpmemAttachHitUs, 9);
  });

  it('a removed segment makes its attachments fail cleanly and the cache drops them', () => {
    const { proc } = node();
    const a = proc(0);
    const b = proc(1);
    const buf = a.space.mmap(2 * PS, { populate: true });
    const seg = a.ep.xpmem.make(buf, 2 * PS);
    const cache = b.ep.attachCache();
    const r = cache.acquire(seg, buf, 100);
    r.attachment.read(r.attAddr, 100);
    a.ep.xpmem.remove(seg.segid);
    expect(errno(() => r.attachment.read(r.attAddr, 100))).toBe('EFAULT');
    expect(errno(() => cache.acquire(seg, buf, 100))).toBe('ENOENT');
    expect(b.ep.stats.attachCacheDropped).toBe(1);
    expect(errno(() => b.ep.xpmem.get(seg))).toBe('ENOENT');
  });

  it('permissions: read-only segments refuse rw gets and writes; other jobs get EPERM', () => {
    const { proc } = node();
    const a = proc(0, 1);
    const b = proc(1, 1);
    const c = proc(2, 2);
    const buf = a.space.mmap(PS);
    const seg = a.ep.xpmem.make(buf, PS, 'r');
    expect(errno(() => b.ep.xpmem.get(seg, 'rw'))).toBe('EPERM');
    expect(errno(() => c.ep.xpmem.get(seg, 'r'))).toBe('EPERM');
    const att = b.ep.xpmem.attach(b.ep.xpmem.get(seg, 'r'), 0, PS);
    expect(errno(() => att.write(att.addr, new Uint8Array([1])))).toBe('EPERM');
    expect(att.read(att.addr, 1)).toEqual(new Uint8Array([0]));
  });

  it('prices a copy as one copy plus the pages it faulted', () => {
    const { proc } = node();
    const a = proc(0);
    const b = proc(1);
    const buf = a.space.mmap(4 * PS, { populate: true });
    const att = b.ep.xpmem.attach(b.ep.xpmem.get(a.ep.xpmem.make(buf, 4 * PS)), 0, 4 * PS);
    const dst = b.space.mmap(4 * PS, { populate: true });
    const t0 = b.clock.now;
    att.copyTo(dst, att.addr, 4 * PS);
    expect(b.clock.now - t0).toBeCloseTo(4 * cost.xpmemFaultUs + xpmemCopyUs(cost, 4 * PS), 9);
    const t1 = b.clock.now;
    att.copyTo(dst, att.addr, 4 * PS);
    expect(b.clock.now - t1).toBeCloseTo(xpmemCopyUs(cost, 4 * PS), 9);
  });
});
