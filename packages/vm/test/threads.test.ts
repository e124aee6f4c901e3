import { describe, expect, it } from 'vitest';
import { AddressSpace, PhysicalMemory } from '@tsmpi/vm';
import { awaitWord, runWorker, supervised } from './workers/spawn.js';

const PS = 4096;

describe('two threads on one node', () => {
  it('allocate and free frames concurrently with no frame lost or handed out twice', async () => {
    const memory = new PhysicalMemory({ bytes: 64 * PS, swapBytes: 0 });
    const runs = [1, 2].map((id) => runWorker<{ mismatches: number; allocated: number; oom: number }>({ mode: 'frames', memory: memory.handle, id, rounds: 4000 }));
    const [a, b] = await Promise.all(runs.map((r) => r.done));
    expect(a!.mismatches + b!.mismatches).toBe(0);
    expect(a!.oom + b!.oom).toBe(0); // 2 × 8 frames held at most, 64 available
    const s = memory.stats;
    expect(s).toMatchObject({ frames: 64, free: 64, mapped: 0, pinned: 0 });
    expect(s.allocs).toBe(a!.allocated + b!.allocated);
    expect(s.allocs).toBe(2 * 4000 * 8);
    expect(s.frees).toBe(s.allocs);
  });

  it('run two address spaces on shared frames without losing or sharing a frame', async () => {
    const memory = new PhysicalMemory({ bytes: 64 * PS, swapBytes: 0 });
    const runs = [1, 2].map((id) => runWorker<{ mismatches: number; faults: number }>({ mode: 'spaces', memory: memory.handle, id, rounds: 1500 }));
    const [a, b] = await Promise.all(runs.map((r) => r.done));
    expect(a!.mismatches + b!.mismatches).toBe(0);
    expect(a!.faults).toBe(1500 * 4);
    expect(memory.stats).toMatchObject({ free: 64, mapped: 0, allocs: 2 * 1500 * 4, frees: 2 * 1500 * 4 });
  });

  it('a reader in another thread never validates a translation the owner unmapped under it', async () => {
    // 8 frames: the junk mapping takes every frame, so the page's old frame is scribbled on at once
    const memory = new PhysicalMemory({ bytes: 8 * PS, swapBytes: 0 });
    const space = new AddressSpace(memory, { vaBytes: 16 * 1024 * 1024 });
    const addr = space.mmap(PS);
    const scratch = space.mmap(8 * PS);
    space.munmap(scratch, 8 * PS);
    const control = new Int32Array(new SharedArrayBuffer(16));
    const run = runWorker<{ validated: number; retried: number; unmapped: number; garbageValidated: number; garbageCaught: number }>({
      mode: 'reader', memory: memory.handle, space: space.handle, control: control.buffer, addr, id: 0, rounds: 0,
    });
    const r = await supervised(run, async () => {
      awaitWord(control, 1, "the reader thread's ready word");
      const marker = new Uint8Array(PS);
      new DataView(marker.buffer).setUint32(64, 0x12345678, true);
      let cycles = 0;
      // owner: unmap, let the freed frame be scribbled on by another mapping, map the page again
      while ((Atomics.load(control, 2) < 2000 || cycles < 2000) && cycles < 200_000) {
        space.write(addr, marker);
        space.munmap(addr, PS);
        const junk = space.mmap(8 * PS, { addr: scratch, fixed: true });
        space.fill(junk, 8 * PS, 0xee);
        space.munmap(junk, 8 * PS);
        space.mmap(PS, { addr, fixed: true });
        cycles++;
      }
      Atomics.store(control, 0, 1);
      return run.done;
    });
    expect(r.garbageValidated).toBe(0);
    expect(r.validated).toBeGreaterThan(0);
    space.exit();
    expect(memory.stats).toMatchObject({ free: 8, mapped: 0 });
  });

  it('another thread demand-faults swapped and untouched pages with the right contents', async () => {
    const memory = new PhysicalMemory({ bytes: 64 * PS, swapBytes: 32 * PS });
    const space = new AddressSpace(memory, { vaBytes: 16 * 1024 * 1024 });
    const pages = 32;
    const a = space.mmap(pages * PS);
    for (let p = 0; p < 16; p++) space.write(a + p * PS, new Uint8Array([0, p]));
    expect(space.reclaim(a, 8 * PS).reclaimed).toBe(8); // pages 0..7 swapped, 8..15 present, 16..31 untouched
    // the faulter expects byte 1 of page p to be p: untouched pages read 0, so stamp them via the remote only check 0..15
    const control = new Int32Array(new SharedArrayBuffer(16));
    const run = runWorker<{ bad: number }>({ mode: 'faulter', memory: memory.handle, space: space.handle, control: control.buffer, addr: a, pages: 16, id: 0, rounds: 0 });
    const r = await supervised(run, async () => {
      awaitWord(control, 1, "the faulter thread's ready word");
      Atomics.store(control, 3, 1);
      Atomics.notify(control, 3);
      // race the remote thread over the same swapped pages
      for (let p = 0; p < 8; p++) expect(space.read(a + p * PS + 1, 1)[0]).toBe(p);
      return run.done;
    });
    expect(r.bad).toBe(0);
    const s = space.stats;
    expect(s.swapIns).toBe(8); // each swapped page came back exactly once, whoever won
    expect(s.faults).toBe(16 + 8); // 16 first touches, 8 swap-ins
    expect(memory.stats).toMatchObject({ swapped: 0, mapped: 16 });
    expect(space.residentPages()).toBe(16);
    // the untouched half is faultable remotely too
    const remote = AddressSpace.remote(memory, space.handle);
    const f = remote.fault(a + 20 * PS, 'write');
    expect(space.translate(a + 20 * PS)).toBe(f);
    expect(space.stats.remoteFaults).toBeGreaterThanOrEqual(1);
    space.exit();
    expect(memory.stats).toMatchObject({ free: 64, mapped: 0 });
  });
});
