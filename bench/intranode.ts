/**
 * Micro-benchmark of the intra-node transports (wall-clock speed of the simulator, not virtual time;
 * `tsmpi bench intranode` is the virtual-time comparison).
 *
 *   npx tsx --conditions=source bench/intranode.ts
 *
 * Real MB/s of one A → B message of 4 KiB … 16 MiB by shm (push + pop through the ring), CMA
 * (process_vm_readv) and XPMEM (copy out of a warm attachment). Baseline in the same run:
 * Uint8Array.prototype.set of the same bytes from A's frames to B's frames (one copy, no page
 * tables). Each figure is the best of 5 runs (the machine is shared).
 */
import { AddressSpace, PhysicalMemory } from '@tsmpi/vm';
import { VirtualClock, createIntranode } from '@tsmpi/fabric';
import { KiB, MiB, best, time, mbps, itersFor } from './timing.js';

const SIZES = [4 * KiB, 64 * KiB, 1 * MiB, 16 * MiB];

const memory = new PhysicalMemory({ bytes: 96 * MiB });
const node = createIntranode({ memory });
const sa = new AddressSpace(memory);
const sb = new AddressSpace(memory);
const a = node.open(sa, new VirtualClock(), { pid: 0 });
const b = node.open(sb, new VirtualClock(), { pid: 1 });
const src = sa.mmap(16 * MiB, { populate: true });
const dst = sb.mmap(16 * MiB, { populate: true });
const seg = a.xpmem.make(src, 16 * MiB);
const cache = b.attachCache();

console.log('size      set() MB/s   shm MB/s   cma MB/s   xpmem MB/s   (wall clock, best of 5)');
for (const n of SIZES) {
  const iters = itersFor(n);
  const bytes = n * iters;
  const from = sa.runs(src, n, 'read')[0]!;
  const to = sb.runs(dst, n, 'write')[0]!;
  const set = best(() => time(() => {
    for (let i = 0; i < iters; i++) memory.bytes.set(memory.bytes.subarray(from.offset, from.offset + n), to.offset);
  }));
  const shm = best(() => time(() => {
    for (let i = 0; i < iters; i++) {
      let sent = 0;
      let got = 0;
      while (got < n) {
        if (sent < n) sent += a.shmSend(b.address, src + sent, n - sent, n);
        got += b.shmRecv(a.address, dst + got, n - got, n);
      }
    }
  }));
  const cma = best(() => time(() => {
    for (let i = 0; i < iters; i++) b.cma.processVmReadv(a.address, [{ addr: dst, length: n }], [{ addr: src, length: n }]);
  }));
  const xp = best(() => time(() => {
    for (let i = 0; i < iters; i++) {
      const r = cache.acquire(seg, src, n);
      r.attachment.copyTo(dst, r.attAddr, n);
    }
  }));
  const label = n >= MiB ? `${n / MiB} MiB` : `${n / KiB} KiB`;
  console.log(`${label.padEnd(8)}  ${mbps(bytes, set).padStart(10)}   ${mbps(bytes, shm).padStart(8)}   ${mbps(bytes, cma).padStart(8)}   ${mbps(bytes, xp).padStart(10)}`);
}
