import { SegmentationFault, type RemoteAddressSpace } from '@tsmpi/vm';
import { copyRuns } from '../dma/copy.js';
import type { PhysicalRun } from '../dma/region-access.js';
import { IntranodeError } from '../errors.js';
import { lock, unlock } from '../shared/lock.js';
import type { ProcessContext } from './context.js';
import {
  A_CELLS, A_LOCK, A_STATE, ATT_PAGES_AT, ATT_STRIDE, AttState, PAGE_EMPTY,
} from './node-state.js';
import { xpmemCopyUs, xpmemFaultCost } from './pricing.js';
import type { XpmemSegment } from './types.js';

/**
 * A segment of another process attached into this one (xpmem_attach): `addr` .. `addr + length`
 * of this process's address space are reserved for it (a PROT_NONE mapping, so nothing else lands
 * there) and map onto the exporter's frames through the attachment's own page table in the node's
 * shared memory — the XPMEM driver's view, filled on first touch from the exporter's page table
 * and zapped by the exporter's mmu notifier when it unmaps, remaps or migrates the range.
 *
 * Access goes through this object (copyTo / copyFrom / read / write), not through
 * space.read(addr): see the README ("XPMEM attachments") for why.
 */
export class Attachment {
  /** First byte of the attached range in this process's address space. */
  readonly addr: number;
  readonly length: number;
  readonly segment: XpmemSegment;
  /** Offset into the segment of `addr`. */
  readonly offset: number;
  readonly writable: boolean;
  /** @internal slot in the node's attachment table */
  readonly slot: number;
  /** @internal the reserved mapping (page-aligned) */
  readonly mapStart: number;
  readonly mapLength: number;
  private readonly ctx: ProcessContext;
  private readonly exporter: RemoteAddressSpace;
  /** exporter address of the first page of the reserved mapping */
  private readonly srcBase: number;

  /** @internal made by Xpmem.attach */
  constructor(parts: {
    ctx: ProcessContext; exporter: RemoteAddressSpace; segment: XpmemSegment; slot: number; addr: number; length: number;
    offset: number; mapStart: number; mapLength: number; srcBase: number; writable: boolean;
  }) {
    this.ctx = parts.ctx;
    this.exporter = parts.exporter;
    this.segment = parts.segment;
    this.slot = parts.slot;
    this.addr = parts.addr;
    this.length = parts.length;
    this.offset = parts.offset;
    this.mapStart = parts.mapStart;
    this.mapLength = parts.mapLength;
    this.srcBase = parts.srcBase;
    this.writable = parts.writable;
  }

  /** Still usable: not detached, and the segment was not removed (nor its exporter gone). */
  get live(): boolean {
    return Atomics.load(this.ctx.node.attCells, this.slot * A_CELLS + A_STATE) === AttState.LIVE;
  }

  /** Copy `length` bytes at `attAddr` (inside the attachment) to `localAddr` of this process: the single copy. */
  copyTo(localAddr: number, attAddr: number, length: number): void {
    this.transfer(attAddr, length, false, (runs, bytes) => {
      const local = this.ctx.space.runs(localAddr, length, 'write');
      copyRuns(bytes, runs, bytes, local);
    });
  }

  /** Copy `length` bytes at `localAddr` of this process into the attachment at `attAddr`. */
  copyFrom(attAddr: number, localAddr: number, length: number): void {
    this.transfer(attAddr, length, true, (runs, bytes) => {
      const local = this.ctx.space.runs(localAddr, length, 'read');
      copyRuns(bytes, local, bytes, runs);
    });
  }

  read(attAddr: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.transfer(attAddr, length, false, (runs, bytes) => {
      let pos = 0;
      for (const r of runs) {
        out.set(bytes.subarray(r.offset, r.offset + r.length), pos);
        pos += r.length;
      }
    });
    return out;
  }

  write(attAddr: number, data: Uint8Array): void {
    this.transfer(attAddr, data.length, true, (runs, bytes) => {
      let pos = 0;
      for (const r of runs) {
        bytes.set(data.subarray(pos, pos + r.length), r.offset);
        pos += r.length;
      }
    });
  }

  /**
   * Translate [attAddr, attAddr + length) through the attachment's page table and hand the
   * physical runs to `use` with the attachment locked (the exporter's zap waits for the copy, as
   * invalidate_range_start waits for a device); missing pages are faulted in through the
   * exporter's page table with the lock dropped, then the translation starts over.
   */
  private transfer(attAddr: number, length: number, write: boolean, use: (runs: PhysicalRun[], bytes: Uint8Array) => void): void {
    const ctx = this.ctx;
    if (!Number.isSafeInteger(attAddr) || !Number.isSafeInteger(length) || length < 0 || attAddr < this.addr || attAddr + length > this.addr + this.length) {
      throw new IntranodeError('EFAULT', 'xpmem access', `[0x${attAddr.toString(16)}, +${length}) is outside the attachment [0x${this.addr.toString(16)}, +${this.length})`);
    }
    if (write && !this.writable) throw new IntranodeError('EPERM', 'xpmem access', 'the attachment is read-only (the segment or the get was XPMEM_RDONLY)');
    if (length === 0) return;
    const cells = ctx.node.attCells;
    const lockAt = this.slot * A_CELLS + A_LOCK;
    let faulted = 0;
    for (;;) {
      lock(cells, lockAt);
      let runs: PhysicalRun[] | undefined;
      try {
        this.checkLive();
        runs = this.translateLocked(attAddr, length, write);
        if (runs !== undefined) use(runs, ctx.memory.bytes);
      } finally {
        unlock(cells, lockAt);
      }
      if (runs !== undefined) break;
      faulted += this.faultIn(attAddr, length, write);
    }
    ctx.clock.advance(xpmemFaultCost(ctx.cost, faulted) + xpmemCopyUs(ctx.cost, length));
    ctx.stats.xpmemFaultPages += faulted;
    ctx.stats.xpmemCopies++;
    ctx.stats.xpmemCopyBytes += length;
  }

  private checkLive(): void {
    const state = Atomics.load(this.ctx.node.attCells, this.slot * A_CELLS + A_STATE);
    if (state === AttState.LIVE) return;
    throw new IntranodeError(
      'EFAULT', 'xpmem access',
      state === AttState.DEAD
        ? `segment ${this.segment.segid} of process ${this.segment.owner.pid} was removed (or its process exited); detach and get the new segment`
        : 'the attachment was detached',
    );
  }

  private entriesAt(): number {
    return this.ctx.node.atts[this.slot * ATT_STRIDE + ATT_PAGES_AT]! * 2;
  }

  private translateLocked(attAddr: number, length: number, write: boolean): PhysicalRun[] | undefined {
    const ps = this.ctx.memory.pageSize;
    const i32 = this.ctx.node.arena.i32;
    const base = this.entriesAt();
    const out: PhysicalRun[] = [];
    let last: PhysicalRun | undefined;
    let at = attAddr;
    let left = length;
    while (left > 0) {
      const off = at % ps;
      const chunk = Math.min(ps - off, left);
      const e = i32[base + (at - off - this.mapStart) / ps]!;
      if (e === PAGE_EMPTY || (write && (e & 1) === 0)) return undefined;
      const offset = (e >> 1) * ps + off;
      if (last !== undefined && last.offset + last.length === offset) last.length += chunk;
      else out.push((last = { offset, length: chunk }));
      at += chunk;
      left -= chunk;
    }
    return out;
  }

  /**
   * xpmem_fault_handler: resolve the missing pages through the exporter's page table (demand-
   * faulting them there, as get_user_pages_remote does) under its read-begin / retry rule, and
   * install them unless an invalidation ran in between. Returns the pages installed.
   */
  private faultIn(attAddr: number, length: number, write: boolean): number {
    const ctx = this.ctx;
    const ps = ctx.memory.pageSize;
    const i32 = ctx.node.arena.i32;
    const first = Math.floor(attAddr / ps);
    const end = Math.ceil((attAddr + length) / ps);
    const lockAt = this.slot * A_CELLS + A_LOCK;
    for (;;) {
      const seq = this.exporter.readBegin();
      const base = this.entriesAt();
      const found: Array<[index: number, entry: number]> = [];
      for (let p = first; p < end; p++) {
        const i = p - this.mapStart / ps;
        const e = Atomics.load(i32, base + i);
        if (e !== PAGE_EMPTY && (!write || (e & 1) === 1)) continue;
        const src = this.srcBase + i * ps;
        let frame: number;
        try {
          frame = this.exporter.fault(src, write ? 'write' : 'read');
        } catch (err) {
          if (err instanceof SegmentationFault) {
            throw new IntranodeError('EFAULT', 'xpmem access',
              `process ${this.segment.owner.pid} no longer maps 0x${src.toString(16)} of segment ${this.segment.segid} (${err.message}); the attachment cannot be read there`);
          }
          throw err;
        }
        found.push([i, frame * 2 + (write ? 1 : 0)]);
      }
      lock(ctx.node.attCells, lockAt);
      try {
        this.checkLive();
        if (this.exporter.readRetry(seq)) continue;
        for (const [i, entry] of found) Atomics.store(i32, base + i, entry);
      } finally {
        unlock(ctx.node.attCells, lockAt);
      }
      return found.length;
    }
  }
}
