import { describe, expect, it } from 'vitest';
import {
  AddressSpace,
  InvalidArgument,
  OutOfMemory,
  PhysicalMemory,
  Prot,
  SegmentationFault,
  StaleView,
  type ForkPolicy,
  type InvalidationRange,
} from '@tsmpi/vm';
import { awaitWord, runWorker, supervised } from './workers/spawn.js';

const PS = 4096;
const page = (v: number) => new Uint8Array(PS).fill(v);

const setup = (forkPolicy?: ForkPolicy) => {
  const memory = new PhysicalMemory({ bytes: 256 * PS, swapBytes: 16 * PS });
  const space = new AddressSpace(memory, { vaBytes: 64 * 1024 * 1024, ...(forkPolicy === undefined ? {} : { forkPolicy }) });
  return { memory, space };
};

/** "event/cause +first..+end" in pages from `base`, for each invalidateRangeStart. */
const listen = (space: AddressSpace, base: () => number) => {
  const log: string[] = [];
  const fmt = (r: InvalidationRange) => `${r.event}/${r.cause} +${(r.start - base()) / PS}..+${(r.end - base()) / PS}`;
  space.mmuNotifier.subscribe({
    invalidateRangeStart: (r) => log.push(`${fmt(r)} odd=${space.header[0]! & 1}`),
    invalidateRangeEnd: () => {},
    release: () => log.push('release'),
  });
  return log;
};

describe('fork: copy-on-write', () => {
  it('shares every touched frame, and a write on either side copies the page or reuses it (exact counters)', () => {
    const { memory, space: parent } = setup();
    const a = parent.mmap(4 * PS);
    for (let i = 0; i < 3; i++) parent.write(a + i * PS, page(i + 1)); // page 3 never touched
    const frames = [0, 1, 2].map((i) => parent.translate(a + i * PS)!);
    expect(memory.stats.mapped).toBe(3);

    const child = parent.fork();
    expect(child.mappings()).toEqual(parent.mappings());
    for (let i = 0; i < 3; i++) {
      expect(child.translate(a + i * PS)).toBe(frames[i]); // the same frame, once more mapped
      expect(memory.mapCount(frames[i]!)).toBe(2);
      expect(child.read(a + i * PS, PS)).toEqual(page(i + 1));
    }
    expect(child.translate(a + 3 * PS)).toBeUndefined();
    expect(memory.stats.mapped).toBe(3); // no copy yet
    expect(parent.stats).toMatchObject({ forks: 1, forkCopiedPages: 0, cowFaults: 0, cowCopies: 0 });

    // parent writes page 0: copied to a new frame; the child keeps the old one and its bytes
    parent.write(a + 10, new Uint8Array([0xaa]));
    expect(parent.translate(a)).not.toBe(frames[0]);
    expect(child.translate(a)).toBe(frames[0]);
    expect(child.read(a + 10, 1)[0]).toBe(1);
    expect(parent.read(a, PS)).toEqual(Object.assign(page(1), { 10: 0xaa }));
    expect(memory.mapCount(frames[0]!)).toBe(1);
    expect(parent.stats).toMatchObject({ cowFaults: 1, cowCopies: 1 });

    // child writes page 1: the child copies, the parent keeps the frame
    child.write(a + PS, new Uint8Array([0xbb]));
    expect(parent.translate(a + PS)).toBe(frames[1]);
    expect(parent.read(a + PS, 1)[0]).toBe(2);
    expect(child.read(a + PS, 1)[0]).toBe(0xbb);
    expect(child.stats).toMatchObject({ cowFaults: 1, cowCopies: 1 });
    expect(memory.stats.mapped).toBe(5);

    // the other side of each: now the only mapping of its frame, so the write reuses it
    parent.write(a + PS, new Uint8Array([0xcc]));
    child.write(a, new Uint8Array([0xdd]));
    expect(parent.translate(a + PS)).toBe(frames[1]);
    expect(child.translate(a)).toBe(frames[0]);
    expect(parent.stats).toMatchObject({ cowFaults: 2, cowCopies: 1 });
    expect(child.stats).toMatchObject({ cowFaults: 2, cowCopies: 1 });
    expect(memory.stats.mapped).toBe(5);

    // reads never fault; page 2 stays shared
    expect(parent.read(a + 2 * PS, PS)).toEqual(page(3));
    expect(child.read(a + 2 * PS, PS)).toEqual(page(3));
    expect(memory.mapCount(frames[2]!)).toBe(2);
    expect(parent.stats.cowFaults + child.stats.cowFaults).toBe(4);
    expect(parent.stats.faults).toBe(3); // first touches only: COW faults are counted apart

    child.exit();
    expect(memory.mapCount(frames[2]!)).toBe(1);
    parent.write(a + 2 * PS, new Uint8Array([9])); // the child is gone: reuse
    expect(parent.translate(a + 2 * PS)).toBe(frames[2]);
    expect(parent.stats).toMatchObject({ cowFaults: 3, cowCopies: 1 });
    parent.exit();
    expect(memory.stats).toMatchObject({ mapped: 0, free: 256 });
  });

  it('the mmu notifier: fork write-protects the parent (protection/fork), a copy is a cow/write-fault of that page', () => {
    const { space: parent } = setup();
    const a = parent.mmap(4 * PS);
    const b = parent.mmap(2 * PS, { prot: Prot.READ }); // an area of its own, never touched: its fork invalidates nothing anyone holds
    parent.fill(a, 4 * PS, 7);
    const parentLog = listen(parent, () => a);
    const skipped0 = parent.mmuNotifier.counts.skipped;
    const seq = parent.readBegin();
    const child = parent.fork();
    expect(parentLog).toEqual(['protection/fork +0..+4 odd=1']);
    expect(parent.mmuNotifier.counts.skipped).toBe(skipped0 + 1); // b
    expect(parent.readRetry(seq)).toBe(true);
    const childLog = listen(child, () => a);

    const seq2 = parent.readBegin();
    parent.write(a + 2 * PS, new Uint8Array([1])); // copy
    expect(parentLog).toEqual(['protection/fork +0..+4 odd=1', 'cow/write-fault +2..+3 odd=1']);
    expect(parent.readRetry(seq2)).toBe(true);
    const seq3 = child.readBegin();
    child.write(a + 2 * PS, new Uint8Array([2])); // reuse: the frame stays, nobody is told
    expect(child.readRetry(seq3)).toBe(false);
    child.write(a + 3 * PS, new Uint8Array([2])); // copy in the child: only the child hears it
    expect(childLog).toEqual(['cow/write-fault +3..+4 odd=1']);
    expect(parentLog).toHaveLength(2);
    expect(parent.stats.invalidations).toMatchObject({ protection: 1, cow: 1 });
    expect(child.stats.invalidations).toMatchObject({ protection: 0, cow: 1 });
    void b;
  });

  it('a pin (FOLL_WRITE) and mlock population break COW first; a read pin shares', () => {
    const { space: parent, memory } = setup();
    const a = parent.mmap(2 * PS);
    parent.fill(a, 2 * PS, 4);
    const child = parent.fork();
    const old = child.translate(a)!;
    const [pinned] = parent.pin(a, PS);
    expect(pinned).not.toBe(old);
    expect(parent.translate(a)).toBe(pinned);
    expect(memory.bytes[pinned! * PS]).toBe(4);
    expect(parent.stats).toMatchObject({ cowFaults: 1, cowCopies: 1 });
    parent.mprotect(a + PS, PS, Prot.READ);
    const [shared] = parent.pin(a + PS, PS); // read-only area: pinned as it is
    expect(shared).toBe(child.translate(a + PS));
    child.mlock(a, 2 * PS); // populates for write: the child's page 1 is copied away from the pinned frame
    expect(child.translate(a + PS)).not.toBe(shared);
    expect(child.stats).toMatchObject({ cowFaults: 2, cowCopies: 1 }); // page 0 was the child's alone: reused
    parent.unpin([pinned!, shared!]);
  });

  it('mlock is not inherited, and a swapped page gets its own copy in the child', () => {
    const { space: parent, memory } = setup();
    const a = parent.mmap(3 * PS);
    parent.write(a, page(1));
    parent.write(a + PS, page(2));
    parent.mlock(a + 2 * PS, PS);
    expect(parent.reclaim(a, PS).reclaimed).toBe(1);
    expect(memory.stats.swapped).toBe(1);
    const child = parent.fork();
    expect(child.mappings().every((v) => !v.locked)).toBe(true);
    expect(child.lockedBytes).toBe(0);
    expect(parent.lockedBytes).toBe(PS);
    expect(memory.stats.swapped).toBe(2); // the child's own slot
    expect(child.read(a, PS)).toEqual(page(1));
    expect(parent.read(a, PS)).toEqual(page(1));
    expect(memory.stats.swapped).toBe(0);
    expect(child.translate(a)).not.toBe(parent.translate(a));
    expect(child.reclaim(a + 2 * PS, PS).reclaimed).toBe(1); // unlocked in the child
  });

  it('a write view on a page that fork made COW goes stale; refresh takes a private copy', () => {
    const { space: parent } = setup();
    const a = parent.mmap(PS);
    parent.write(a, new Uint8Array([5]));
    const v = parent.view(a, PS, 'write');
    const child = parent.fork();
    expect(() => v.bytes).toThrow(StaleView);
    v.refresh().bytes[0] = 6;
    expect(parent.read(a, 1)[0]).toBe(6);
    expect(child.read(a, 1)[0]).toBe(5);
  });

  it('another thread breaking COW bumps the sequence by 2 (readers retry), without the notifier', () => {
    const { space: parent, memory } = setup();
    const a = parent.mmap(PS);
    parent.write(a, new Uint8Array([3]));
    const child = parent.fork();
    const childLog = listen(child, () => a);
    const remote = AddressSpace.remote(memory, child.handle);
    const seq = remote.readBegin();
    const f = remote.fault(a, 'write');
    expect(f).not.toBe(parent.translate(a));
    expect(child.translate(a)).toBe(f);
    expect(memory.bytes[f * PS]).toBe(3);
    expect(remote.readRetry(seq)).toBe(true);
    expect(remote.readBegin()).toBe(seq + 2);
    expect(childLog).toEqual([]); // subscribers run on the owner thread only (README: departures)
    expect(child.stats).toMatchObject({ cowFaults: 1, cowCopies: 1 });
    expect(remote.fault(a, 'write')).toBe(f); // private now
  });
});

describe('fork: MADV_DONTFORK', () => {
  it('a DONTFORK range is absent in the child and stays private in the parent; DOFORK undoes it', () => {
    const { space: parent, memory } = setup();
    const a = parent.mmap(2 * PS);
    const b = parent.mmap(2 * PS);
    parent.fill(a, 2 * PS, 1);
    parent.fill(b, 2 * PS, 2);
    const hooks: string[] = [];
    parent.memoryHooks.on((e) => hooks.push(e.call));
    parent.madvise(b, PS, 'dontfork');
    expect(parent.mappings().filter((v) => v.dontfork).map((v) => [v.start, v.end])).toEqual([[b, b + PS]]);
    const bFrame = parent.translate(b)!;
    const child = parent.fork();
    expect(() => child.read(b, 1)).toThrow(SegmentationFault);
    expect(child.read(b + PS, 1)[0]).toBe(2);
    expect(child.mappings().some((v) => v.start <= b && b < v.end)).toBe(false);
    expect(memory.mapCount(bFrame)).toBe(1);
    parent.write(b, new Uint8Array([9])); // not shared: no COW fault
    expect(parent.translate(b)).toBe(bFrame);
    expect(parent.stats.cowFaults).toBe(0);
    expect(hooks).toEqual([]); // advice that releases nothing is no business of the hooks
    parent.madvise(b, PS, 'dofork');
    const second = parent.fork();
    expect(second.read(b, 1)[0]).toBe(9);
    expect(memory.mapCount(bFrame)).toBe(2);
  });

  it('refuses a range with holes (ENOMEM) and unknown advice (EINVAL)', () => {
    const { space } = setup();
    const a = space.mmap(PS);
    expect(() => space.madvise(a, 2 * PS, 'dontfork')).toThrow(OutOfMemory);
    expect(() => space.madvise(a, PS, 'free' as never)).toThrow(/advice must be one of dontneed, dontfork, dofork/);
    expect(() => new AddressSpace(space.memory, { forkPolicy: 'eager' as never })).toThrow(InvalidArgument);
    expect(() => (space.forkPolicy = 'x' as never)).toThrow(/forkPolicy must be one of legacy, copy-pinned/);
  });
});

describe('fork: pinned pages under each policy', () => {
  const pinnedThenFork = (policy: ForkPolicy) => {
    const { memory, space: parent } = setup(policy);
    const a = parent.mmap(2 * PS);
    parent.write(a, page(0x01)); // what the adapter registered
    parent.write(a + PS, page(0x02));
    const [pinned] = parent.pin(a, PS); // the HCA reads this frame from now on
    const child = parent.fork();
    parent.write(a, page(0x99)); // the application updates its send buffer
    const hcaSees = memory.bytes[pinned! * PS];
    return { memory, parent, child, pinned: pinned!, hcaSees, a };
  };

  it("legacy: the parent's write moves off the pinned frame, which keeps the old bytes (seed 001's stale registration)", () => {
    const { parent, child, pinned, hcaSees, a, memory } = pinnedThenFork('legacy');
    expect(parent.translate(a)).not.toBe(pinned);
    expect(parent.read(a, 1)[0]).toBe(0x99);
    expect(hcaSees).toBe(0x01); // stale: the DMA engine reads what the parent no longer has
    expect(child.translate(a)).toBe(pinned);
    expect(child.read(a, 1)[0]).toBe(0x01);
    expect(parent.stats).toMatchObject({ forkCopiedPages: 0, cowFaults: 1, cowCopies: 1 });
    child.exit();
    // even with the child gone the pinned frame is not the parent's any more: the pin outlives the mapping
    expect(memory.mapCount(pinned)).toBe(0);
    expect(memory.pinCount(pinned)).toBe(1);
  });

  it('copy-pinned: the child gets a copy at fork, the parent keeps writing into the pinned frame', () => {
    const { parent, child, pinned, hcaSees, a, memory } = pinnedThenFork('copy-pinned');
    expect(parent.translate(a)).toBe(pinned);
    expect(hcaSees).toBe(0x99); // what the application wrote is what the HCA reads
    expect(child.translate(a)).not.toBe(pinned);
    expect(child.read(a, PS)).toEqual(page(0x01)); // the child's copy, taken at fork
    expect(memory.mapCount(pinned)).toBe(1);
    expect(parent.stats).toMatchObject({ forkCopiedPages: 1, cowFaults: 0, cowCopies: 0 });
    // the unpinned page is shared as usual
    expect(child.translate(a + PS)).toBe(parent.translate(a + PS));
    child.write(a + PS, new Uint8Array([7]));
    expect(parent.read(a + PS, 1)[0]).toBe(0x02);
    expect(child.stats).toMatchObject({ cowFaults: 1, cowCopies: 1 });
  });

  it('copy-pinned is the default, and a fork that runs out of frames leaves no child behind', () => {
    const memory = new PhysicalMemory({ bytes: 8 * PS, swapBytes: 0 });
    const parent = new AddressSpace(memory, { vaBytes: 16 * 1024 * 1024 });
    expect(parent.forkPolicy).toBe('copy-pinned');
    const a = parent.mmap(6 * PS, { populate: true });
    const frames = parent.pin(a, 6 * PS); // 6 pinned pages to copy, 2 frames free
    expect(() => parent.fork()).toThrow(OutOfMemory);
    expect(memory.stats).toMatchObject({ free: 2, mapped: 6 });
    parent.unpin(frames);
    parent.forkPolicy = 'legacy';
    const child = parent.fork();
    expect(memory.stats).toMatchObject({ free: 2, mapped: 6 });
    child.exit();
  });
});

describe('fork: atFork prepare handlers', () => {
  it('run in the parent before anything is shared, last registered first, and may make syscalls', () => {
    const { space: parent, memory } = setup('legacy');
    const a = parent.mmap(PS);
    parent.write(a, new Uint8Array([1]));
    let frames = parent.pin(a, PS);
    const order: string[] = [];
    const off = parent.atFork(() => order.push('first'));
    parent.atFork(() => {
      // what a registration cache that purges on fork does: deregister, so the page is not pinned at fork
      order.push(`second forks=${parent.stats.forks} mapCount=${memory.mapCount(frames[0]!)}`);
      parent.unpin(frames);
      frames = [];
    });
    const child = parent.fork();
    expect(order).toEqual(['second forks=0 mapCount=1', 'first']);
    frames = parent.pin(a, PS); // registering again after fork: a write pin breaks COW first
    parent.write(a, new Uint8Array([2]));
    expect(memory.bytes[frames[0]! * PS]).toBe(2); // the adapter reads what the parent wrote
    expect(child.read(a, 1)[0]).toBe(1);
    off();
    order.length = 0;
    parent.fork();
    expect(order).toEqual(['second forks=1 mapCount=1']); // the first handler is gone
    expect(memory.stats.pinned).toBe(0);
    expect(() => parent.atFork(undefined as never)).toThrow(InvalidArgument);
  });
});

describe('fork: a reader in another thread', () => {
  it('never validates a translation of a page the owner moved by COW (the old frame is then scribbled by the child)', async () => {
    const memory = new PhysicalMemory({ bytes: 64 * PS, swapBytes: 0 });
    const parent = new AddressSpace(memory, { vaBytes: 16 * 1024 * 1024 });
    const addr = parent.mmap(PS);
    parent.write(addr, new Uint8Array(PS));
    const control = new Int32Array(new SharedArrayBuffer(16));
    const run = runWorker<{ validated: number; retried: number; garbageValidated: number; garbageCaught: number }>({
      mode: 'reader', memory: memory.handle, space: parent.handle, control: control.buffer, addr, id: 0, rounds: 0,
    });
    const r = await supervised(run, async () => {
      awaitWord(control, 1, "the reader thread's ready word");
      const marker = new Uint8Array(PS);
      new DataView(marker.buffer).setUint32(64, 0x12345678, true);
      let cycles = 0;
      // owner: fork, write (the parent moves to a copy), the child scribbles on the frame the parent left
      while ((Atomics.load(control, 2) < 2000 || cycles < 2000) && cycles < 100_000) {
        const child = parent.fork();
        parent.write(addr, marker);
        child.fill(addr, PS, 0xee);
        child.exit();
        cycles++;
      }
      Atomics.store(control, 0, 1);
      return run.done;
    });
    expect(r.garbageValidated).toBe(0);
    expect(r.validated).toBeGreaterThan(0);
    expect(parent.stats.cowCopies).toBeGreaterThan(0);
    parent.exit();
    expect(memory.stats).toMatchObject({ free: 64, mapped: 0 });
  });
});
