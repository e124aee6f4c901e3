import { InvalidArgument } from '../errors.js';
import type { Attachment } from './attachment.js';
import type { ProcessContext } from './context.js';
import { xpmemAttachCost } from './pricing.js';
import type { XpmemPerm, XpmemSegment } from './types.js';
import type { Xpmem } from './xpmem.js';

export interface AttachCacheOptions {
  /** Attachments kept; the least recently used beyond this are detached (default 256). */
  maxAttachments?: number;
  /** Attach ranges rounded out to this alignment, so neighbouring buffers share one (default 64 KiB; UCX aligns too). */
  alignBytes?: number;
  /** Permission to get segments with (default 'rw'). */
  perm?: XpmemPerm;
}

/** Where a peer's bytes are reachable in this process: the attachment and the address inside it. */
export interface AttachedRange {
  attachment: Attachment;
  /** `addr` of the request, as an address inside the attachment */
  attAddr: number;
}

/**
 * The importer's attachment cache, like UCX's xpmem rcache (uct_xpmem_rcache): a request for a
 * range of a peer's segment is served by an attachment that already covers it (a hit,
 * xpmemAttachHitUs) or by a new, aligned attachment (a miss, xpmemAttachMissUs). Attachments stay
 * valid when the exporter's memory changes — the exporter's mmu notifier zaps their pages and the
 * next access faults the new ones in — so the cache itself is never invalidated by free/malloc;
 * only a removed segment (exporter exit) makes an attachment dead, and it is dropped on lookup.
 */
export class XpmemAttachCache {
  private readonly ctx: ProcessContext;
  private readonly xpmem: Xpmem;
  private readonly max: number;
  private readonly align: number;
  private readonly perm: XpmemPerm;
  /** segid → apid */
  private readonly apids = new Map<number, number>();
  /** LRU order: Map iteration order, most recently used last */
  private readonly lru = new Map<Attachment, true>();

  constructor(ctx: ProcessContext, xpmem: Xpmem, opts: AttachCacheOptions = {}) {
    this.ctx = ctx;
    this.xpmem = xpmem;
    this.max = opts.maxAttachments ?? 256;
    this.align = opts.alignBytes ?? 64 * 1024;
    this.perm = opts.perm ?? 'rw';
    const ps = ctx.memory.pageSize;
    if (!Number.isInteger(this.max) || this.max < 1) throw new InvalidArgument(`attach cache: maxAttachments must be >= 1, got ${this.max}`);
    if (!Number.isInteger(this.align) || this.align < ps || this.align % ps !== 0) {
      throw new InvalidArgument(`attach cache: alignBytes must be a multiple of the page size ${ps}, got ${this.align}`);
    }
  }

  /** The peer's [addr, addr + length) (exporter addresses inside `segment`) attached in this process. */
  acquire(segment: XpmemSegment, addr: number, length: number): AttachedRange {
    const ctx = this.ctx;
    if (addr < segment.addr || addr + length > segment.addr + segment.length || length <= 0) {
      throw new InvalidArgument(`attach cache: [0x${addr.toString(16)}, +${length}) is not inside segment ${segment.segid}`);
    }
    // fast path: an attachment of this segment that covers the range
    for (const att of this.lru.keys()) {
      if (att.segment.segid !== segment.segid) continue;
      const from = segment.addr + att.offset;
      if (addr < from || addr + length > from + att.length) continue;
      if (!att.live) {
        this.drop(att);
        ctx.stats.attachCacheDropped++;
        break;
      }
      this.lru.delete(att);
      this.lru.set(att, true);
      ctx.clock.advance(xpmemAttachCost(ctx.cost, true));
      ctx.stats.attachCacheHits++;
      return { attachment: att, attAddr: att.addr + (addr - from) };
    }
    // miss: no live attachment covers it (first use, grown range, or the segment was replaced)
    return this.attachNew(segment, addr, length);
  }

  /** Detach everything (the process is done with its peers). */
  flush(): void {
    for (const att of [...this.lru.keys()]) this.drop(att);
    for (const apid of this.apids.values()) this.xpmem.release(apid);
    this.apids.clear();
  }

  get size(): number {
    return this.lru.size;
  }

  private attachNew(segment: XpmemSegment, addr: number, length: number): AttachedRange {
    const ctx = this.ctx;
    let apid = this.apids.get(segment.segid);
    if (apid === undefined) {
      apid = this.xpmem.get(segment, this.perm);
      this.apids.set(segment.segid, apid);
    }
    const rel = addr - segment.addr;
    const start = Math.floor(rel / this.align) * this.align;
    const end = Math.min(segment.length, Math.ceil((rel + length) / this.align) * this.align);
    const att = this.xpmem.attach(apid, start, end - start);
    ctx.stats.attachCacheMisses++;
    this.lru.set(att, true);
    while (this.lru.size > this.max) {
      const oldest = this.lru.keys().next().value!;
      this.drop(oldest);
      ctx.stats.attachCacheEvictions++;
    }
    return { attachment: att, attAddr: att.addr + (rel - start) };
  }

  private drop(att: Attachment): void {
    this.lru.delete(att);
    this.xpmem.detach(att);
  }
}
