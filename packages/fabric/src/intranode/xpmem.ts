import { Prot, type InvalidationRange, type MmuNotifierSubscriber, type RemoteAddressSpace } from '@tsmpi/vm';
import { IntranodeError } from '../errors.js';
import { lock, unlock } from '../shared/lock.js';
import { Attachment } from './attachment.js';
import type { ProcessContext } from './context.js';
import {
  A_CELLS, A_LOCK, A_STATE, ATT_IMPORTER, ATT_LENGTH, ATT_OFFSET, ATT_PAGES_AT, ATT_SEG, ATT_SEG_GEN, ATT_STRIDE,
  ATT_WRITABLE, AttState, LOCK, PAGE_EMPTY, SEG_GEN, SEG_LENGTH, SEG_OWNER, SEG_PERM, SEG_START, SEG_STATE, SEG_STRIDE,
  SegState,
} from './node-state.js';
import { xpmemAttachCost } from './pricing.js';
import type { IntranodePeer, XpmemPerm, XpmemSegment } from './types.js';

const PERM_BITS: Record<XpmemPerm, number> = { r: 1, rw: 3 };

/** A grant from xpmem_get: which segment, with what permission. */
interface Grant {
  segment: XpmemSegment;
  slot: number;
  gen: number;
  perm: XpmemPerm;
  exporter: RemoteAddressSpace;
}

/**
 * XPMEM for one process (SGI's XPMEM, as Robin Holt described it on LKML in 2008): export a range of this address space as a segment
 * (`make`), and import other processes' segments (`get`, `attach`, `detach`). The exporter's mmu
 * notifier keeps every attachment coherent: when it unmaps, remaps, migrates or reclaims part of
 * an exported range, the attachments' page entries over it are zapped before the old frames can
 * be reused, so the importer's next access faults the new pages in (or fails with EFAULT if the
 * range is gone) and never reads the old frames.
 */
export class Xpmem {
  private readonly ctx: ProcessContext;
  private readonly grants = new Map<number, Grant>();
  private readonly attachments = new Set<Attachment>();
  private nextApid = 1;
  /** segment slots this process exported and has not removed */
  private readonly mine = new Set<number>();

  constructor(ctx: ProcessContext) {
    this.ctx = ctx;
  }

  /** @internal the mmu-notifier subscriber the endpoint registers on this process's space */
  readonly subscriber: MmuNotifierSubscriber = {
    invalidateRangeStart: (r: InvalidationRange) => {
      if (this.mine.size > 0) this.zap(r.start, r.end);
    },
    invalidateRangeEnd: () => {},
    release: () => {
      for (const slot of [...this.mine]) this.removeSlot(slot);
    },
  };

  /** xpmem_make: export [addr, addr + length) (page-aligned) with `perm`; returns the segment to hand to importers. */
  make(addr: number, length: number, perm: XpmemPerm = 'rw'): XpmemSegment {
    const ctx = this.ctx;
    const ps = ctx.memory.pageSize;
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(length) || addr % ps !== 0 || length <= 0 || length % ps !== 0) {
      throw new IntranodeError('EINVAL', 'xpmem_make', `addr (0x${addr.toString(16)}) and length (${length}) must be positive multiples of the page size ${ps}`);
    }
    if (perm !== 'r' && perm !== 'rw') throw new IntranodeError('EINVAL', 'xpmem_make', `perm must be 'r' or 'rw', got ${String(perm)}`);
    const node = ctx.node;
    lock(node.header, LOCK);
    try {
      for (let s = 0; s < node.limits.maxSegments; s++) {
        const row = s * SEG_STRIDE;
        if (node.segs[row + SEG_STATE] !== SegState.FREE) continue;
        node.segs[row + SEG_OWNER] = ctx.pid;
        node.segs[row + SEG_PERM] = PERM_BITS[perm];
        node.segs[row + SEG_START] = addr;
        node.segs[row + SEG_LENGTH] = length;
        node.segs[row + SEG_STATE] = SegState.LIVE;
        this.mine.add(s);
        ctx.stats.xpmemSegments++;
        const segid = s + node.segs[row + SEG_GEN]! * node.limits.maxSegments;
        return { kind: 'xpmem-segment', segid, owner: this.self(), addr, length, perm };
      }
    } finally {
      unlock(node.header, LOCK);
    }
    throw new IntranodeError('ENOMEM', 'xpmem_make', `all ${node.limits.maxSegments} segments of the node are in use; remove some or raise limits.maxSegments`);
  }

  /** xpmem_remove: the segment goes; every attachment of it is zapped and fails cleanly from now on. */
  remove(segid: number): void {
    const slot = this.slotOf(segid, 'xpmem_remove');
    if (!this.mine.has(slot)) throw new IntranodeError('EPERM', 'xpmem_remove', `segment ${segid} belongs to another process`);
    this.removeSlot(slot);
  }

  /** xpmem_get: permission to attach `segment` (same job; `perm` no wider than the segment's). Returns an apid. */
  get(segment: XpmemSegment, perm: XpmemPerm = 'rw'): number {
    const ctx = this.ctx;
    if (segment?.kind !== 'xpmem-segment') throw new IntranodeError('EINVAL', 'xpmem_get', 'expected the XpmemSegment returned by make()');
    const exporter = ctx.peerSpace(segment.owner, 'xpmem_get');
    const slot = this.slotOf(segment.segid, 'xpmem_get');
    const row = slot * SEG_STRIDE;
    if ((PERM_BITS[perm] & ~ctx.node.segs[row + SEG_PERM]!) !== 0) {
      throw new IntranodeError('EPERM', 'xpmem_get', `segment ${segment.segid} was exported read-only; get it with perm 'r'`);
    }
    const apid = this.nextApid++;
    this.grants.set(apid, { segment, slot, gen: this.genOf(segment.segid), perm, exporter });
    ctx.stats.xpmemGets++;
    return apid;
  }

  /** xpmem_release. Attachments made through the apid stay until detached (as in XPMEM). */
  release(apid: number): void {
    if (!this.grants.delete(apid)) throw new IntranodeError('EINVAL', 'xpmem_release', `no apid ${apid}`);
  }

  /**
   * xpmem_attach: map [offset, offset + length) of the granted segment into this process. Charges
   * xpmemAttachMissUs; the pages fault in on first touch (xpmemFaultUs each).
   */
  attach(apid: number, offset: number, length: number): Attachment {
    const ctx = this.ctx;
    const g = this.grants.get(apid);
    if (g === undefined) throw new IntranodeError('EINVAL', 'xpmem_attach', `no apid ${apid}; call get() first`);
    const ps = ctx.memory.pageSize;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length <= 0 || offset + length > g.segment.length) {
      throw new IntranodeError('EINVAL', 'xpmem_attach', `[${offset}, +${length}) is not inside segment ${g.segment.segid} of ${g.segment.length} bytes`);
    }
    const pageOffset = Math.floor(offset / ps) * ps;
    const mapLength = Math.ceil((offset + length) / ps) * ps - pageOffset;
    const node = ctx.node;
    // reserve the range in our address space first: nothing else may be placed there
    const mapStart = ctx.space.mmap(mapLength, { prot: Prot.NONE });
    let slot = -1;
    lock(node.header, LOCK);
    try {
      const srow = g.slot * SEG_STRIDE;
      if (node.segs[srow + SEG_STATE] !== SegState.LIVE || node.segs[srow + SEG_GEN] !== g.gen) {
        throw new IntranodeError('ENOENT', 'xpmem_attach', `segment ${g.segment.segid} was removed`);
      }
      for (let a = 0; a < node.limits.maxAttachments; a++) {
        if (Atomics.load(node.attCells, a * A_CELLS + A_STATE) === AttState.FREE) {
          slot = a;
          break;
        }
      }
      if (slot < 0) throw new IntranodeError('ENOMEM', 'xpmem_attach', `all ${node.limits.maxAttachments} attachments of the node are in use; detach some or raise limits.maxAttachments`);
      const pages = mapLength / ps;
      const word = node.arena.alloc(pages * 4, 'xpmem attachment page table');
      node.arena.i32.fill(PAGE_EMPTY, word * 2, word * 2 + pages);
      const row = slot * ATT_STRIDE;
      node.atts[row + ATT_SEG] = g.slot;
      node.atts[row + ATT_SEG_GEN] = g.gen;
      node.atts[row + ATT_IMPORTER] = ctx.pid;
      node.atts[row + ATT_OFFSET] = pageOffset;
      node.atts[row + ATT_LENGTH] = mapLength;
      node.atts[row + ATT_PAGES_AT] = word;
      node.atts[row + ATT_WRITABLE] = g.perm === 'rw' ? 1 : 0;
      Atomics.store(node.attCells, slot * A_CELLS + A_STATE, AttState.LIVE);
    } catch (e) {
      ctx.space.munmap(mapStart, mapLength);
      throw e;
    } finally {
      unlock(node.header, LOCK);
    }
    ctx.clock.advance(xpmemAttachCost(ctx.cost, false));
    ctx.stats.xpmemAttaches++;
    const att = new Attachment({
      ctx, exporter: g.exporter, segment: g.segment, slot, addr: mapStart + (offset - pageOffset), length, offset,
      mapStart, mapLength, srcBase: g.segment.addr + pageOffset, writable: g.perm === 'rw',
    });
    this.attachments.add(att);
    return att;
  }

  /** xpmem_detach: the reserved range is unmapped and the attachment's slot freed. */
  detach(att: Attachment): void {
    const ctx = this.ctx;
    if (!this.attachments.delete(att)) throw new IntranodeError('EINVAL', 'xpmem_detach', 'not an attachment of this process (detached twice?)');
    const node = ctx.node;
    const ps = ctx.memory.pageSize;
    lock(node.header, LOCK);
    try {
      lock(node.attCells, att.slot * A_CELLS + A_LOCK);
      Atomics.store(node.attCells, att.slot * A_CELLS + A_STATE, AttState.FREE);
      unlock(node.attCells, att.slot * A_CELLS + A_LOCK);
      node.arena.free(node.atts[att.slot * ATT_STRIDE + ATT_PAGES_AT]!, (att.mapLength / ps) * 4);
    } finally {
      unlock(node.header, LOCK);
    }
    ctx.space.munmap(att.mapStart, att.mapLength);
    ctx.stats.xpmemDetaches++;
  }

  /** Attachments this process holds. */
  get attached(): number {
    return this.attachments.size;
  }

  /**
   * The exporter's side of coherence, called from its mmu notifier before the change: every live
   * attachment of our segments that overlaps [start, end) has its entries there cleared, under the
   * attachment's lock (an importer's copy in progress finishes first).
   */
  private zap(start: number, end: number): void {
    const node = this.ctx.node;
    const ps = this.ctx.memory.pageSize;
    let hit = false;
    for (let a = 0; a < node.limits.maxAttachments; a++) {
      if (Atomics.load(node.attCells, a * A_CELLS + A_STATE) !== AttState.LIVE) continue;
      const row = a * ATT_STRIDE;
      const seg = node.atts[row + ATT_SEG]!;
      if (!this.mine.has(seg)) continue;
      const srcStart = node.segs[seg * SEG_STRIDE + SEG_START]! + node.atts[row + ATT_OFFSET]!;
      const srcEnd = srcStart + node.atts[row + ATT_LENGTH]!;
      const s = Math.max(start, srcStart);
      const e = Math.min(end, srcEnd);
      if (s >= e) continue;
      lock(node.attCells, a * A_CELLS + A_LOCK);
      try {
        if (Atomics.load(node.attCells, a * A_CELLS + A_STATE) !== AttState.LIVE || node.atts[row + ATT_SEG] !== seg) continue;
        const base = node.atts[row + ATT_PAGES_AT]! * 2;
        for (let p = (s - srcStart) / ps; p < (e - srcStart) / ps; p++) {
          if (node.arena.i32[base + p] !== PAGE_EMPTY) {
            node.arena.i32[base + p] = PAGE_EMPTY;
            this.ctx.stats.xpmemZappedPages++;
          }
        }
        hit = true;
      } finally {
        unlock(node.attCells, a * A_CELLS + A_LOCK);
      }
    }
    if (hit) this.ctx.stats.xpmemInvalidations++;
  }

  /** Segment goes away: attachments of it become DEAD (entries cleared), the slot is freed for reuse. */
  private removeSlot(slot: number): void {
    const node = this.ctx.node;
    lock(node.header, LOCK);
    try {
      for (let a = 0; a < node.limits.maxAttachments; a++) {
        const cells = a * A_CELLS;
        if (Atomics.load(node.attCells, cells + A_STATE) !== AttState.LIVE || node.atts[a * ATT_STRIDE + ATT_SEG] !== slot) continue;
        lock(node.attCells, cells + A_LOCK);
        const row = a * ATT_STRIDE;
        const base = node.atts[row + ATT_PAGES_AT]! * 2;
        const pages = node.atts[row + ATT_LENGTH]! / this.ctx.memory.pageSize;
        node.arena.i32.fill(PAGE_EMPTY, base, base + pages);
        Atomics.store(node.attCells, cells + A_STATE, AttState.DEAD);
        unlock(node.attCells, cells + A_LOCK);
      }
      const row = slot * SEG_STRIDE;
      node.segs[row + SEG_STATE] = SegState.FREE;
      node.segs[row + SEG_GEN] = node.segs[row + SEG_GEN]! + 1;
      this.mine.delete(slot);
    } finally {
      unlock(node.header, LOCK);
    }
  }

  private slotOf(segid: number, call: string): number {
    const node = this.ctx.node;
    const max = node.limits.maxSegments;
    const slot = Number.isSafeInteger(segid) && segid >= 0 ? segid % max : -1;
    const row = slot * SEG_STRIDE;
    if (slot < 0 || node.segs[row + SEG_STATE] !== SegState.LIVE || node.segs[row + SEG_GEN] !== this.genOf(segid)) {
      throw new IntranodeError('ENOENT', call, `no segment ${segid} on node ${this.ctx.nodeId} (removed, or its process exited)`);
    }
    return slot;
  }

  private genOf(segid: number): number {
    return Math.floor(segid / this.ctx.node.limits.maxSegments);
  }

  private self(): IntranodePeer {
    const c = this.ctx;
    return { kind: 'intranode-peer', nodeId: c.nodeId, pid: c.pid, job: c.job, space: c.space.handle };
  }
}

