// Worker: the exporting process of intranode-threads.test.ts. Phase 1 migrates its exported
// buffer over and over while the importer (main thread) reads it; phase 2 unmaps and maps the
// buffer again at the same address, generation by generation, handing each over through `ctl`.
import { parentPort, workerData } from 'node:worker_threads';
import { AddressSpace, PhysicalMemory } from '@tsmpi/vm';
import { Intranode, VirtualClock } from '@tsmpi/fabric';

const { memory: mh, intranode: ih, ctl: ctlBuf, bytes: N } = workerData as {
  memory: never; intranode: never; ctl: SharedArrayBuffer; bytes: number;
};
const ctl = new Int32Array(ctlBuf);
const STOP = 0, GEN = 1, ACK = 2;
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

// phase 1: migrate until told to stop
let migrations = 0;
let moved = 0;
while (Atomics.load(ctl, STOP) === 0) {
  moved += space.migrate(buf, N).moved;
  migrations++;
}

// phase 2: a new mapping (new frames) at the same address per generation
const rounds = Atomics.load(ctl, STOP);
let sameAddress = true;
for (let g = 1; g <= rounds; g++) {
  space.munmap(buf, N);
  sameAddress &&= space.mmap(N, { addr: buf }) === buf;
  fill(buf, g);
  Atomics.store(ctl, GEN, g);
  Atomics.notify(ctl, GEN);
  while (Atomics.load(ctl, ACK) !== g) Atomics.wait(ctl, ACK, g - 1, 50);
}
parentPort!.postMessage({ migrations, moved, sameAddress, stats: ep.stats() });
