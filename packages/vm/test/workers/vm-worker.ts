/**
 * Worker side of the two-thread tests (threads.test.ts). Imports the package source directly:
 * this is the package's own test, and a worker cannot see vitest's alias.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AddressSpace, PhysicalMemory, type AddressSpaceHandle, type PhysicalMemoryHandle } from '../../src/index.js';

const data = workerData as {
  mode: 'frames' | 'spaces' | 'reader' | 'faulter';
  memory: PhysicalMemoryHandle;
  space?: AddressSpaceHandle;
  control?: SharedArrayBuffer;
  id: number;
  rounds: number;
  addr?: number;
  pages?: number;
};
/** Longest the worker waits for the test thread before failing with a message (the test's WAIT_MS). */
const WAIT_MS = 20_000;
const memory = PhysicalMemory.attach(data.memory);
const ps = memory.pageSize;
const view = new DataView(memory.bytes.buffer);

function frames(): unknown {
  // allocate a batch, stamp each frame with (id, frame), check every stamp, free: a frame handed
  // out twice would carry the other thread's stamp
  let mismatches = 0;
  let allocated = 0;
  let oom = 0;
  for (let r = 0; r < data.rounds; r++) {
    const held: number[] = [];
    for (let i = 0; i < 8; i++) {
      try {
        held.push(memory.allocFrame());
        allocated++;
      } catch {
        oom++;
      }
    }
    for (const f of held) {
      view.setUint32(f * ps, data.id, true);
      view.setUint32(f * ps + 4, f, true);
    }
    for (const f of held) {
      if (view.getUint32(f * ps, true) !== data.id || view.getUint32(f * ps + 4, true) !== f) mismatches++;
    }
    for (const f of held) memory.putFrame(f);
  }
  return { mismatches, allocated, oom };
}

function spaces(): unknown {
  // a whole process per thread: mmap, touch, check, munmap, on one shared node
  const space = new AddressSpace(memory, { vaBytes: 16 * 1024 * 1024 });
  let mismatches = 0;
  for (let r = 0; r < data.rounds; r++) {
    const a = space.mmap(4 * ps);
    const stamp = new Uint8Array(4 * ps).fill((data.id * 16 + (r & 15)) & 0xff);
    space.write(a, stamp);
    const back = space.read(a, 4 * ps);
    for (let i = 0; i < back.length; i += 512) if (back[i] !== stamp[0]) mismatches++;
    space.munmap(a, 4 * ps);
  }
  const s = space.stats;
  space.exit();
  return { mismatches, faults: s.faults };
}

function reader(): unknown {
  // translate another thread's page under the read-begin / retry rule while it unmaps, remaps
  // and scribbles over recycled frames; a validated read must never see the scribble
  const remote = AddressSpace.remote(memory, data.space!);
  const control = new Int32Array(data.control!);
  const addr = data.addr!;
  let validated = 0;
  let retried = 0;
  let unmapped = 0;
  let garbageValidated = 0;
  let garbageCaught = 0;
  Atomics.store(control, 1, 1); // ready
  Atomics.notify(control, 1);
  const deadline = Date.now() + WAIT_MS;
  for (let i = 0; Atomics.load(control, 0) === 0; i++) {
    if ((i & 1023) === 0 && Date.now() > deadline) throw new Error(`reader: waited ${WAIT_MS} ms for the stop word (control[0]) from the test thread`);
    const seq = remote.readBegin();
    const f = remote.translate(addr);
    if (f === undefined) {
      unmapped++;
      continue;
    }
    // widen the window between translating and using the frame, as a DMA engine would
    for (let i = 0, t = Atomics.load(control, 0); i < 200; i++) t += Atomics.load(control, 0);
    const word = view.getUint32(f * ps + 64, true);
    const garbage = word === 0xeeeeeeee;
    if (remote.readRetry(seq)) {
      retried++;
      if (garbage) garbageCaught++;
      continue;
    }
    validated++;
    if (garbage) garbageValidated++;
    Atomics.add(control, 2, 1);
  }
  return { validated, retried, unmapped, garbageValidated, garbageCaught };
}

function faulter(): unknown {
  // demand-fault the owner's pages from this thread (some swapped out), racing the owner
  const remote = AddressSpace.remote(memory, data.space!);
  const control = new Int32Array(data.control!);
  Atomics.store(control, 1, 1);
  Atomics.notify(control, 1);
  const deadline = Date.now() + WAIT_MS;
  while (Atomics.load(control, 3) === 0) {
    if (Date.now() > deadline) throw new Error(`faulter: waited ${WAIT_MS} ms for the go word (control[3]) from the test thread`);
    Atomics.wait(control, 3, 0, 50);
  }
  let bad = 0;
  for (let p = 0; p < data.pages!; p++) {
    const f = remote.fault(data.addr! + p * ps, 'read');
    const v = memory.bytes[f * ps + 1]!;
    if (v !== (p & 0xff)) bad++;
  }
  return { bad };
}

const modes = { frames, spaces, reader, faulter };
parentPort!.postMessage(modes[data.mode]());
