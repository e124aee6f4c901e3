// Worker: the exporting process of intranode-threads.test.ts. Phase 1 migrates its exported
// buffer over and over while the importer (main thread) reads it; phase 2 unmaps and maps the
// buffer again at the same address, generation by generation, handing each over through `ctl`.
//
// ctl words (the test starts GEN and ACK at -1):
//   STOP        importer → exporter: 0 while phase 1 runs, then the number of generations
//   GEN         exporter → importer: the generation the buffer holds now (0 = migration stopped)
//   ACK         importer → exporter: the generation it has read
//   MIGRATIONS  exporter → importer: migrations so far (the importer keeps reading until some overlap it)
//   READS       importer → exporter: phase-1 reads completed
//   FAILED      1 = the exporter failed, 2 = the importer gave up; the other side stops waiting
// Every wait is level-triggered (the word is re-read before each Atomics.wait, with the value
// read, so a notify that came first is never needed) and ends at a deadline with a message
// that says which word it waited for.
import { parentPort, workerData } from 'node:worker_threads';
import { AddressSpace, PhysicalMemory } from '@tsmpi/vm';
import { Intranode, VirtualClock } from '@tsmpi/fabric';

const { memory: mh, intranode: ih, ctl: ctlBuf, bytes: N, waitMs, migrationsPerRead } = workerData as {
  memory: never; intranode: never; ctl: SharedArrayBuffer; bytes: number; waitMs: number; migrationsPerRead: number;
};
const ctl = new Int32Array(ctlBuf);
const STOP = 0, GEN = 1, ACK = 2, MIGRATIONS = 3, FAILED = 4, READS = 5;

/** Wait until `ready(ctl[index])`, at most waitMs; throws saying what it waited for. */
function awaitWord(index: number, ready: (v: number) => boolean, want: string, what: string): void {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const v = Atomics.load(ctl, index);
    if (ready(v)) return;
    if (Atomics.load(ctl, FAILED) !== 0) throw new Error(`exporter: the importer gave up while the exporter waited for ${what}`);
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`exporter: waited ${waitMs} ms for ${what}: ctl[${index}] is ${v}, wanted ${want}`);
    Atomics.wait(ctl, index, v, Math.min(left, 50));
  }
}

function publish(index: number, value: number): void {
  Atomics.store(ctl, index, value);
  Atomics.notify(ctl, index);
}

try {
  const memory = PhysicalMemory.attach(mh);
  const node = Intranode.attach(ih, memory);
  const space = new AddressSpace(memory);
  const ep = node.open(space, new VirtualClock(), { pid: 0 });

  const fill = (addr: number, g: number) => {
    const a = new Uint8Array(N);
    for (let i = 0; i < N; i++) a[i] = (i * 13 + g * 71 + 1) & 0xff;
    space.write(addr, a);
  };
  const buf = space.mmap(N);
  fill(buf, 0);
  const segment = ep.xpmem.make(buf, N);
  parentPort!.postMessage({ segment, address: ep.address, buf });

  // phase 1: migrate until told to stop, at most migrationsPerRead times per importer read. Every
  // reader of this space (the XPMEM fault-in, CMA's page walk) needs the invalidation count even
  // from its read-begin to its retry check; a loop of back-to-back migrations keeps it odd all but
  // a few microseconds per migration, so readers woken at its end mostly find the next one already
  // running and can starve for seconds per read. The bound keeps the race
  // (migrations land anywhere inside a read) and guarantees the read then gets to finish.
  let migrations = 0;
  let moved = 0;
  let seenReads = Atomics.load(ctl, READS);
  let sinceRead = 0;
  while (Atomics.load(ctl, STOP) === 0) {
    if (Atomics.load(ctl, FAILED) !== 0) throw new Error('exporter: the importer gave up during phase 1');
    if (sinceRead === migrationsPerRead) {
      const after = seenReads;
      awaitWord(READS, (v) => v !== after || Atomics.load(ctl, STOP) !== 0, `> ${after}`, `the importer's read ${after + 1} (or its stop)`);
    } else {
      moved += space.migrate(buf, N).moved;
      publish(MIGRATIONS, ++migrations);
      sinceRead++;
    }
    const r = Atomics.load(ctl, READS);
    if (r !== seenReads) {
      seenReads = r;
      sinceRead = 0;
    }
  }

  // phase 2: a new mapping (new frames) at the same address per generation, each one only after
  // the importer has read the previous one (so every unmap finds the attachment's pages faulted in)
  const rounds = Atomics.load(ctl, STOP);
  const zappedBefore = ep.stats.xpmemZappedPages;
  publish(GEN, 0);
  let sameAddress = true;
  for (let g = 1; g <= rounds; g++) {
    awaitWord(ACK, (v) => v === g - 1, String(g - 1), `the importer's ack of generation ${g - 1}`);
    space.munmap(buf, N);
    sameAddress &&= space.mmap(N, { addr: buf }) === buf;
    fill(buf, g);
    publish(GEN, g);
  }
  awaitWord(ACK, (v) => v === rounds, String(rounds), `the importer's ack of the last generation ${rounds}`);
  const stats = ep.stats;
  parentPort!.postMessage({ migrations, moved, sameAddress, phase2Zapped: stats.xpmemZappedPages - zappedBefore, stats });
} catch (e) {
  // the importer may be blocked in a synchronous wait on a ctl word: tell it through one
  if (Atomics.load(ctl, FAILED) === 0) publish(FAILED, 1);
  for (const i of [STOP, GEN, ACK, MIGRATIONS, READS]) Atomics.notify(ctl, i);
  throw e;
}
