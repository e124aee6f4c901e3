import { InvalidArgument, SegmentationFault } from './errors.js';
import { H_EXITED, H_SEQ, faultPage, waitReadBegin } from './fault.js';
import type { AddressSpaceHandle, PhysicalRun } from './address-space.js';
import { PteState, pteIndex, pteState } from './page-table.js';
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
  private readonly pt: Int32Array;
  private readonly header: Int32Array;

  constructor(memory: PhysicalMemory, handle: AddressSpaceHandle) {
    if (handle?.kind !== 'address-space') throw new InvalidArgument('AddressSpace.remote: not an address-space handle');
    if (handle.pageSize !== memory.pageSize) {
      throw new InvalidArgument(`AddressSpace.remote: page size ${handle.pageSize} does not match the node's ${memory.pageSize}; attach the same node's memory`);
    }
    this.memory = memory;
    this.pageSize = handle.pageSize;
    this.vaBytes = handle.vaBytes;
    this.handle = handle;
    this.pt = new Int32Array(handle.pageTable);
    this.header = new Int32Array(handle.header);
  }

  /** Waits while an invalidation runs; returns the even count to hand to readRetry. */
  readBegin(): number {
    return waitReadBegin(this.header);
  }

  readRetry(seq: number): boolean {
    return Atomics.load(this.header, H_SEQ) !== seq;
  }

  get exited(): boolean {
    return Atomics.load(this.header, H_EXITED) === 1;
  }

  translate(addr: number): number | undefined {
    if (!(addr >= 0 && addr < this.vaBytes)) return undefined;
    const e = Atomics.load(this.pt, Math.floor(addr / this.pageSize));
    return pteState(e) === PteState.PRESENT ? pteIndex(e) : undefined;
  }

  /** Demand-fault the page at addr for `access` (compare-and-swap); SegmentationFault if its entry forbids it. */
  fault(addr: number, access: Access): number {
    if (!(addr >= 0 && addr < this.vaBytes)) throw new SegmentationFault(addr, access, 'outside the address window');
    return faultPage(this.memory, this.pt, this.header, Math.floor(addr / this.pageSize), access, true);
  }

  /** Physical runs of [addr, addr + length), faulting as needed; valid until readRetry says otherwise. */
  runs(addr: number, length: number, access: Access): PhysicalRun[] {
    const ps = this.pageSize;
    if (addr < 0 || addr + length > this.vaBytes) throw new SegmentationFault(Math.max(addr, 0), access, 'outside the address window');
    const out: PhysicalRun[] = [];
    let last: PhysicalRun | undefined;
    let a = addr;
    let left = length;
    while (left > 0) {
      const off = a % ps;
      const chunk = Math.min(ps - off, left);
      const page = (a - off) / ps;
      // a present entry whose protection allows the access returns at once, uncounted
      const f = faultPage(this.memory, this.pt, this.header, page, access, true);
      const offset = f * ps + off;
      if (last !== undefined && last.offset + last.length === offset) last.length += chunk;
      else out.push((last = { offset, length: chunk }));
      a += chunk;
      left -= chunk;
    }
    return out;
  }
}
