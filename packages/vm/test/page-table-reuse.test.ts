import { describe, expect, it } from 'vitest';
import { AddressSpace, PhysicalMemory, SegmentationFault } from '@tsmpi/vm';

// An exited space's page table is reused by the next space of the thread when nothing else can
// still read it (page-table-pool.ts): the next space must start from an empty table, and a table
// another thread was handed must never be reused.
const PS = 4096;
const setup = () => {
  const memory = new PhysicalMemory({ bytes: 256 * PS });
  const parent = new AddressSpace(memory, { vaBytes: 64 * 1024 * 1024, forkPolicy: 'legacy' });
  const a = parent.mmap(2 * PS);
  parent.write(a, new Uint8Array(PS).fill(7));
  return { memory, parent, a };
};

describe('page tables of exited spaces', () => {
  it('a child forked after another exited sees only its parent\'s mappings, over many fork/exit cycles', () => {
    const { memory, parent, a } = setup();
    for (let i = 0; i < 50; i++) {
      const child = parent.fork();
      expect(child.read(a, 1)[0]).toBe(7);
      expect(child.translate(a + PS)).toBeUndefined(); // never touched by the parent
      // the child's own area, and a copy-on-write page, leave entries an unclean reuse would show
      const own = child.mmap(3 * PS);
      child.write(own, new Uint8Array(3 * PS).fill(i + 1));
      child.write(a + PS, new Uint8Array([i]));
      child.exit();
      const next = parent.fork();
      expect(next.translate(own)).toBeUndefined();
      expect(() => next.read(own, 1)).toThrow(SegmentationFault);
      expect(next.translate(a + PS)).toBeUndefined();
      expect(next.read(a, 1)[0]).toBe(7);
      expect(child.translate(a)).toBeUndefined(); // the exited child no longer translates, whoever has its table now
      next.exit();
    }
    expect(memory.stats.mapped).toBe(1); // only the parent's page is left
  });

  it('a space whose handle another thread took keeps its table after exit: its remote view still reads it as exited', () => {
    const { memory, parent, a } = setup();
    const child = parent.fork();
    const view = AddressSpace.remote(memory, child.handle);
    child.exit();
    const next = parent.fork();
    next.write(a + PS, new Uint8Array([9])); // would land in the viewed table if it were reused
    expect(view.handle.pageTable).not.toBe(next.handle.pageTable);
    expect(view.exited).toBe(true);
    expect(view.translate(a + PS)).toBeUndefined();
    next.exit();
  });
});
