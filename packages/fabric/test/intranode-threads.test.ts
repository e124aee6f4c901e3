/*
 * XPMEM and CMA across two threads: the exporter's own thread changes its memory while the
 * importer (this thread) reads it through an attachment and through process_vm_readv.
 *
 *   exporter thread:  make ─ migrate, migrate, ... ─┬─ GEN=0 ─ wait ACK 0 ─ munmap+mmap+fill, GEN=1 ─ wait ACK 1 ...
 *   importer (here):  get, attach ─ read, read, ... ┘  wait GEN g ─ read (must be g, never g-1) ─ ACK=g ...
 *
 * The exporter migrates at most MIGRATIONS_PER_READ times per read of ours: back-to-back
 * migrations keep its invalidation count odd nearly all the time, and every reader of its space
 * (XPMEM fault-in, CMA's page walk) waits for an even count, so reads starved for seconds each and
 * the test ran into vitest's timeout. No wait here can hang: the worker's events are recorded as
 * state (an 'exit' listener added after the worker has exited never fires: Node emits 'exit' right
 * after draining the last messages), each wait re-reads what it waits for and ends at a deadline
 * with a message naming it, and the worker is terminated in `finally`.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AddressSpace, PhysicalMemory } from '@tsmpi/vm';
import { VirtualClock, createIntranode } from '@tsmpi/fabric';

const bootstrap = fileURLToPath(new URL('./workers/bootstrap.mjs', import.meta.url));
const entry = new URL('./workers/intranode-exporter.ts', import.meta.url).href;
const N = 64 * 1024;
const PAGES = N / 4096;
/** Longest any single wait may take before the test fails saying what it waited for (a hang guard, not a timing assertion). */
const WAIT_MS = 20_000;
/** Phase 1 reads at least this often, and until the exporter has migrated at least MIN_MIGRATIONS times meanwhile. */
const MIN_READS = 150;
const MIN_MIGRATIONS = 20;
/** The exporter migrates at most this often per read of ours (see the worker for why it must be bounded). */
const MIGRATIONS_PER_READ = 8;
const ROUNDS = 12;
const STOP = 0, GEN = 1, ACK = 2, MIGRATIONS = 3, FAILED = 4, READS = 5;
/** FAILED word values (see workers/intranode-exporter.ts) */
const EXPORTER_FAILED = 1, IMPORTER_GAVE_UP = 2;

const expected = (g: number) => {
  const a = new Uint8Array(N);
  for (let i = 0; i < N; i++) a[i] = (i * 13 + g * 71 + 1) & 0xff;
  return a;
};
const mismatches = (a: Uint8Array, b: Uint8Array) => a.reduce((n, x, i) => n + (x === b[i] ? 0 : 1), 0);

/** Wait (blocking this thread) until ctl[index] === want, at most WAIT_MS; throws saying what it waited for. */
function awaitWord(ctl: Int32Array, index: number, want: number, what: string): void {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const v = Atomics.load(ctl, index);
    if (v === want) return;
    if (Atomics.load(ctl, FAILED) !== 0) throw new Error(`importer: the exporter failed while the importer waited for ${what}`);
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`importer: waited ${WAIT_MS} ms for ${what}: ctl[${index}] is ${v}, wanted ${want}`);
    Atomics.wait(ctl, index, v, Math.min(left, 50));
  }
}

/**
 * The worker's messages, error and exit as state, not as events to catch in time: a waiter that
 * comes after the fact still sees them. One waiter at a time.
 */
function supervise(worker: Worker) {
  const inbox: unknown[] = [];
  let error: unknown;
  let exitCode: number | undefined;
  let wake: (() => void) | undefined;
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  worker.on('message', (m) => {
    inbox.push(m);
    poke();
  });
  worker.on('error', (e) => {
    error = e;
    poke();
  });
  worker.on('exit', (code) => {
    exitCode = code;
    poke();
  });
  async function until<T>(what: string, ready: () => T | undefined): Promise<T> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      if (error !== undefined) throw new Error(`importer: the exporter failed while the importer waited for ${what}: ${String(error)}`, { cause: error });
      const v = ready();
      if (v !== undefined) return v;
      if (exitCode !== undefined) throw new Error(`importer: the exporter exited (code ${exitCode}) before ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`importer: waited ${WAIT_MS} ms for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }
  return {
    message: (what: string): Promise<any> => until(what, () => (inbox.length > 0 ? { m: inbox.shift() } : undefined)).then((x) => x.m),
    exit: (what: string): Promise<number> => until(what, () => exitCode),
    /** The worker's own error, if it reported one. */
    failure: (): unknown => error,
  };
}

describe('intra-node transports between two threads', () => {
  it('reads stay exact while the exporter migrates, and each new mapping is seen, never the old frames', async () => {
    const memory = new PhysicalMemory({ bytes: 32 * 1024 * 1024 });
    const node = createIntranode({ memory });
    const ctl = new Int32Array(new SharedArrayBuffer(6 * 4));
    ctl[GEN] = -1;
    ctl[ACK] = -1;
    const worker = new Worker(bootstrap, { workerData: { entry, memory: memory.handle, intranode: node.handle, ctl: ctl.buffer, bytes: N, waitMs: WAIT_MS, migrationsPerRead: MIGRATIONS_PER_READ } });
    const exporter = supervise(worker);
    try {
      const space = new AddressSpace(memory);
      const ep = node.open(space, new VirtualClock(), { pid: 1 });
      const { segment, address, buf } = await exporter.message('the exported segment');
      const cache = ep.attachCache();
      const dst = space.mmap(N);
      const read = () => {
        const r = cache.acquire(segment, buf, N);
        r.attachment.copyTo(dst, r.attAddr, N);
        return space.read(dst, N);
      };

      // phase 1: concurrent migration; keep reading until enough migrations overlapped the reads
      let bad = 0;
      let reads = 0;
      const deadline = Date.now() + WAIT_MS;
      const migrationsBefore = Atomics.load(ctl, MIGRATIONS);
      while (reads < MIN_READS || Atomics.load(ctl, MIGRATIONS) - migrationsBefore < MIN_MIGRATIONS) {
        if (Atomics.load(ctl, FAILED) !== 0) throw new Error(`importer: the exporter failed after ${reads} reads of phase 1`);
        if (Date.now() > deadline) {
          throw new Error(`importer: after ${reads} reads in ${WAIT_MS} ms the exporter had migrated ${Atomics.load(ctl, MIGRATIONS) - migrationsBefore} times meanwhile (wanted ${MIN_MIGRATIONS})`);
        }
        bad += mismatches(read(), expected(0));
        expect(ep.cma.processVmReadv(address, [{ addr: dst, length: N }], [{ addr: buf, length: N }])).toBe(N);
        bad += mismatches(space.read(dst, N), expected(0));
        Atomics.store(ctl, READS, ++reads);
        Atomics.notify(ctl, READS);
      }
      Atomics.store(ctl, STOP, ROUNDS);
      Atomics.notify(ctl, READS);

      // phase 2: a new mapping per generation, handed over through ctl; generation 0 is the
      // migrated buffer once migration has stopped (its read faults the pages the first unmap zaps)
      let stale = 0;
      for (let g = 0; g <= ROUNDS; g++) {
        awaitWord(ctl, GEN, g, `the exporter's generation ${g}`);
        const got = read();
        bad += mismatches(got, expected(g));
        if (g > 0) stale += mismatches(got, expected(g - 1)) === 0 ? 1 : 0;
        Atomics.store(ctl, ACK, g);
        Atomics.notify(ctl, ACK);
      }
      const done = await exporter.message("the exporter's final report");
      expect(await exporter.exit("the exporter's exit")).toBe(0);

      expect(bad).toBe(0);
      expect(stale).toBe(0);
      expect(done.sameAddress).toBe(true);
      expect(done.migrations).toBeGreaterThanOrEqual(MIN_MIGRATIONS);
      expect(done.moved).toBeGreaterThan(0);
      // each generation's unmap zapped exactly the attachment's pages the previous read faulted in
      expect(done.phase2Zapped).toBe(ROUNDS * PAGES);
      const s = ep.stats;
      expect(s.attachCacheMisses).toBe(1);
      expect(s.attachCacheHits).toBe(reads + ROUNDS);
      expect(s.cmaCalls).toBe(reads);
    } catch (e) {
      const exporterFailed = Atomics.load(ctl, FAILED) === EXPORTER_FAILED;
      // tell an exporter still migrating or waiting on a word that the importer gave up
      Atomics.store(ctl, FAILED, IMPORTER_GAVE_UP);
      for (const i of [STOP, GEN, ACK, READS]) Atomics.notify(ctl, i);
      // a wait that ended because the exporter failed: its error event arrives only now that this
      // thread is back in the event loop; report it with ours
      if (exporterFailed) await exporter.exit('its exit after it failed').catch(() => undefined);
      const why = exporter.failure();
      if (why !== undefined && e instanceof Error) e.message += `\nexporter error: ${String(why)}`;
      throw e;
    } finally {
      await worker.terminate();
    }
  }, 60_000);
});
