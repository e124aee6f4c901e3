/*
 * XPMEM and CMA across two threads: the exporter's own thread changes its memory while the
 * importer (this thread) reads it through an attachment and through process_vm_readv.
 *
 *   exporter thread:  make ─ migrate, migrate, ... ─┬─ munmap+mmap+fill g=1 ─ wait ack ─ g=2 ...
 *   importer (here):  get, attach ─ read, read, ... ┘  wait g ─ read (must be g, never g-1) ─ ack
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AddressSpace, PhysicalMemory } from '@tsmpi/vm';
import { VirtualClock, createIntranode } from '@tsmpi/fabric';

const bootstrap = fileURLToPath(new URL('./workers/bootstrap.mjs', import.meta.url));
const entry = new URL('./workers/intranode-exporter.ts', import.meta.url).href;
const N = 64 * 1024;
const expected = (g: number) => {
  const a = new Uint8Array(N);
  for (let i = 0; i < N; i++) a[i] = (i * 13 + g * 71 + 1) & 0xff;
  return a;
};
const mismatches = (a: Uint8Array, b: Uint8Array) => a.reduce((n, x, i) => n + (x === b[i] ? 0 : 1), 0);

describe('intra-node transports between two threads', () => {
  it('reads stay exact while the exporter migrates, and each new mapping is seen, never the old frames', async () => {
    const memory = new PhysicalMemory({ bytes: 32 * 1024 * 1024 });
    const node = createIntranode({ memory });
    const ctl = new Int32Array(new SharedArrayBuffer(16));
    const worker = new Worker(bootstrap, { workerData: { entry, memory: memory.handle, intranode: node.handle, ctl: ctl.buffer, bytes: N } });
    const messages: unknown[] = [];
    const waiting: Array<(m: unknown) => void> = [];
    worker.on('message', (m) => (waiting.length > 0 ? waiting.shift()!(m) : messages.push(m)));
    const errored = new Promise((_, reject) => worker.on('error', reject));
    const next = () => Promise.race([errored, new Promise((r) => (messages.length > 0 ? r(messages.shift()) : waiting.push(r)))]) as Promise<any>;

    const space = new AddressSpace(memory);
    const ep = node.open(space, new VirtualClock(), { pid: 1 });
    const { segment, address, buf } = await next();
    const cache = ep.attachCache();
    const dst = space.mmap(N);

    // phase 1: concurrent migration
    let bad = 0;
    for (let i = 0; i < 150; i++) {
      const r = cache.acquire(segment, buf, N);
      r.attachment.copyTo(dst, r.attAddr, N);
      bad += mismatches(space.read(dst, N), expected(0));
      expect(ep.cma.processVmReadv(address, [{ addr: dst, length: N }], [{ addr: buf, length: N }])).toBe(N);
      bad += mismatches(space.read(dst, N), expected(0));
    }
    const rounds = 12;
    Atomics.store(ctl, 0, rounds);

    // phase 2: a new mapping per generation, handed over through ctl
    let stale = 0;
    for (let g = 1; g <= rounds; g++) {
      while (Atomics.load(ctl, 1) !== g) Atomics.wait(ctl, 1, g - 1, 50);
      const r = cache.acquire(segment, buf, N);
      r.attachment.copyTo(dst, r.attAddr, N);
      const got = space.read(dst, N);
      bad += mismatches(got, expected(g));
      stale += mismatches(got, expected(g - 1)) === 0 ? 1 : 0;
      Atomics.store(ctl, 2, g);
      Atomics.notify(ctl, 2);
    }
    const done = await next();
    await new Promise((r) => worker.once('exit', r));

    expect(bad).toBe(0);
    expect(stale).toBe(0);
    expect(done.sameAddress).toBe(true);
    expect(done.migrations).toBeGreaterThan(0);
    expect(done.moved).toBeGreaterThan(0);
    // every generation's unmap zapped the attachment's 16 pages (faulted in by the previous read)
    expect(done.stats.xpmemZappedPages).toBeGreaterThanOrEqual(rounds * (N / 4096));
    const s = ep.stats();
    expect(s.attachCacheMisses).toBe(1);
    expect(s.attachCacheHits).toBe(150 + rounds - 1);
    expect(s.cmaCalls).toBe(150);
  }, 60_000);
});
