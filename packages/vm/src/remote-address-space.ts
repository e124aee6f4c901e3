import { InvalidArgument, SegmentationFault } from './errors.js';
import { H_EXITED } from './space-header.js';
import type { AddressSpaceHandle } from './address-space.js';
import { PageTable, type PhysicalRun } from './page-table.js';
import type { PhysicalMemory } from './physical-memory.js';
import type { Access } from './prot.js';

/**
 * Another thread's view of an address space: the page table and the sequence counter, never the
 * VMAs. It may translate, and demand-fault a page whose entry allows the access (the entry
 * carries the VMA's protection). Use the read-begin / retry rule around anything it does with a
 * translation (see the timeline in mmu-notifier.ts).
 */
export class RemoteAddressSpace {
  readonly memory: PhysicalMemory;
  readonly pageSize: number;
  readonly vaBytes: number;
  readonly handle: AddressSpaceHandle;
  private readonly table: PageTable;

  constructor(memory: PhysicalMemory, handle: AddressSpaceHandle) {
    if (handle?.kind !== 'address-space') throw new InvalidArgument('AddressSpace.remote: not an address-space handle');
    if (handle.pageSize !== memory.pageSize) {
      throw new InvalidArgument(`AddressSpace.remote: page size ${handle.pageSize} does not match the node's ${memory.pageSize}; attach the same node's memory`);
    }
    this.memory = memory;
    this.pageSize = handle.pageSize;
    this.vaBytes = handle.vaBytes;
    this.handle = handle;
    this.table = new PageTable(memory, new Int32Array(handle.pageTable), new Int32Array(handle.header), true);
  }

  /** Waits while an invalidation runs; returns the even count to hand to readRetry. */
  readBegin(): number {
    return this.table.waitReadBegin();
  }

  readRetry(seq: number): boolean {
    return this.table.sequence() !== seq;
  }

  get exited(): boolean {
    return Atomics.load(this.table.header, H_EXITED) === 1;
  }

  translate(addr: number): number | undefined {
    return this.table.translate(addr);
  }

  /** Demand-fault the page at addr for `access` (compare-and-swap); SegmentationFault if its entry forbids it. */
  fault(addr: number, access: Access): number {
    if (!(addr >= 0 && addr < this.vaBytes)) throw new SegmentationFault(addr, access, 'outside the address window');
    return this.table.frame(Math.floor(addr / this.pageSize), access);
  }

  /** Physical runs of [addr, addr + length), faulting as needed; valid until readRetry says otherwise. */
  runs(addr: number, length: number, access: Access): PhysicalRun[] {
    if (addr < 0 || addr + length > this.vaBytes) throw new SegmentationFault(Math.max(addr, 0), access, 'outside the address window');
    return this.table.runs(addr, length, access);
  }
}
