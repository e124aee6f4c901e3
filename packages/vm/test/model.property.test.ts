/**
 * Random sequences of syscalls, accesses and kernel-initiated changes against a page-level model:
 * contents, faults and frame accounting must agree after every step. The model knows, per virtual
 * page, its protection and the byte stamped at offset 0 (0 when fresh).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AddressSpace, PhysicalMemory, Prot, SegmentationFault } from '@tsmpi/vm';

const PS = 4096;
const FRAMES = 160;

type Op =
  | { k: 'mmap'; pages: number; populate: boolean; prot: number }
  | { k: 'mmapFixed'; at: number; pages: number }
  | { k: 'munmap'; at: number; pages: number }
  | { k: 'mprotect'; at: number; pages: number; prot: number }
  | { k: 'madvise'; at: number; pages: number }
  | { k: 'mremap'; at: number; pages: number; newPages: number }
  | { k: 'write'; at: number; value: number }
  | { k: 'read'; at: number }
  | { k: 'migrate'; at: number; pages: number }
  | { k: 'reclaim'; at: number; pages: number }
  | { k: 'pin'; at: number; pages: number }
  | { k: 'unpin'; which: number };

const pick = fc.nat({ max: 10_000 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('mmap' as const), pages: fc.integer({ min: 1, max: 6 }), populate: fc.boolean(), prot: fc.constantFrom(Prot.RW, Prot.READ, Prot.NONE) }),
  fc.record({ k: fc.constant('mmapFixed' as const), at: pick, pages: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ k: fc.constant('munmap' as const), at: pick, pages: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ k: fc.constant('mprotect' as const), at: pick, pages: fc.integer({ min: 1, max: 3 }), prot: fc.constantFrom(Prot.RW, Prot.READ, Prot.NONE) }),
  fc.record({ k: fc.constant('madvise' as const), at: pick, pages: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ k: fc.constant('mremap' as const), at: pick, pages: fc.integer({ min: 1, max: 3 }), newPages: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ k: fc.constant('write' as const), at: pick, value: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ k: fc.constant('read' as const), at: pick }),
  fc.record({ k: fc.constant('migrate' as const), at: pick, pages: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ k: fc.constant('reclaim' as const), at: pick, pages: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ k: fc.constant('pin' as const), at: pick, pages: fc.integer({ min: 1, max: 2 }) }),
  fc.record({ k: fc.constant('unpin' as const), which: pick }),
);

function run(ops: Op[]): void {
  const memory = new PhysicalMemory({ bytes: FRAMES * PS, swapBytes: 256 * PS });
  const space = new AddressSpace(memory, { vaBytes: 8 * 1024 * 1024, memlockLimit: Infinity });
  const model = new Map<number, { prot: number; byte: number }>(); // by page address
  const pins: { frames: number[]; stamp: number[] }[] = [];
  const mapped = () => [...model.keys()].sort((a, b) => a - b);
  const at = (i: number) => {
    const m = mapped();
    return m.length === 0 ? space.vaBytes / 2 : m[i % m.length]!;
  };
  const covered = (start: number, pages: number) => {
    for (let p = 0; p < pages; p++) if (!model.has(start + p * PS)) return false;
    return true;
  };
  const resident = () => mapped().filter((a) => space.translate(a) !== undefined).length;

  for (const o of ops) {
    if (resident() > FRAMES - 24) break; // keep clear of node OOM, which the model does not cover
    switch (o.k) {
      case 'mmap': {
        const a = space.mmap(o.pages * PS, { populate: o.populate, prot: o.prot });
        for (let p = 0; p < o.pages; p++) {
          expect(model.has(a + p * PS)).toBe(false);
          model.set(a + p * PS, { prot: o.prot, byte: 0 });
        }
        break;
      }
      case 'mmapFixed': {
        const a = at(o.at);
        space.mmap(o.pages * PS, { addr: a, fixed: true });
        for (let p = 0; p < o.pages; p++) model.set(a + p * PS, { prot: Prot.RW, byte: 0 });
        break;
      }
      case 'munmap': {
        const a = at(o.at);
        space.munmap(a, o.pages * PS);
        for (let p = 0; p < o.pages; p++) model.delete(a + p * PS);
        break;
      }
      case 'mprotect': {
        const a = at(o.at);
        if (!covered(a, o.pages)) {
          expect(() => space.mprotect(a, o.pages * PS, o.prot)).toThrow(/ENOMEM/);
          break;
        }
        space.mprotect(a, o.pages * PS, o.prot);
        for (let p = 0; p < o.pages; p++) model.get(a + p * PS)!.prot = o.prot;
        break;
      }
      case 'madvise': {
        const a = at(o.at);
        if (!covered(a, o.pages)) break;
        space.madvise(a, o.pages * PS, 'dontneed');
        for (let p = 0; p < o.pages; p++) model.get(a + p * PS)!.byte = 0;
        break;
      }
      case 'mremap': {
        const v = space.mappings()[o.at % Math.max(1, space.mappings().length)];
        if (v === undefined) break;
        const pages = Math.min(o.pages, (v.end - v.start) / PS);
        const moved = space.mremap(v.start, pages * PS, o.newPages * PS, { mayMove: true });
        const old = Array.from({ length: pages }, (_, p) => model.get(v.start + p * PS)!);
        for (let p = 0; p < pages; p++) model.delete(v.start + p * PS);
        for (let p = 0; p < o.newPages; p++) {
          if (moved !== v.start || p >= pages) expect(model.has(moved + p * PS)).toBe(false);
          model.set(moved + p * PS, p < pages ? old[p]! : { prot: v.prot, byte: 0 });
        }
        break;
      }
      case 'write': {
        const a = at(o.at);
        const m = model.get(a);
        if (m === undefined || (m.prot & Prot.WRITE) === 0) {
          expect(() => space.write(a, new Uint8Array([o.value]))).toThrow(SegmentationFault);
        } else {
          space.write(a, new Uint8Array([o.value]));
          m.byte = o.value;
        }
        break;
      }
      case 'read': {
        const a = at(o.at);
        const m = model.get(a);
        if (m === undefined || (m.prot & Prot.READ) === 0) expect(() => space.read(a, 1)).toThrow(SegmentationFault);
        else expect(space.read(a, 1)[0]).toBe(m.byte);
        break;
      }
      case 'migrate':
        space.migrate(at(o.at), o.pages * PS);
        break;
      case 'reclaim':
        space.reclaim(at(o.at), o.pages * PS);
        break;
      case 'pin': {
        const a = at(o.at);
        if (!covered(a, o.pages) || [0, 1].slice(0, o.pages).some((p) => model.get(a + p * PS)!.prot === Prot.NONE)) break;
        const frames = space.pin(a, o.pages * PS);
        pins.push({ frames, stamp: frames.map((f) => memory.bytes[f * PS]!) });
        break;
      }
      case 'unpin': {
        const i = pins.length === 0 ? -1 : o.which % pins.length;
        if (i >= 0) space.unpin(pins.splice(i, 1)[0]!.frames);
        break;
      }
    }
    // accounting: every frame is free, mapped exactly once, or held only by pins
    const residentFrames = new Set(mapped().map((a) => space.translate(a)).filter((f) => f !== undefined));
    expect(residentFrames.size).toBe(resident()); // no frame mapped twice
    const held = new Set([...residentFrames, ...pins.flatMap((p) => p.frames)]);
    const s = memory.stats;
    expect(s.mapped).toBe(residentFrames.size);
    expect(s.free).toBe(FRAMES - held.size);
  }
  // contents survived every migration, reclaim and remap
  for (const [a, m] of model) if (m.prot & Prot.READ) expect(space.read(a, 1)[0]).toBe(m.byte);
  for (const p of pins) space.unpin(p.frames);
  space.exit();
  expect(memory.stats).toMatchObject({ free: FRAMES, mapped: 0, pinned: 0, swapped: 0 });
}

describe('address space against a page model', () => {
  it('agrees on contents, faults and frame accounting over random call sequences', () => {
    fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 80 }), (ops) => run(ops)), { numRuns: 150 });
  });
});
