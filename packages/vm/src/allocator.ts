import { InvalidArgument, OutOfMemory, VmError } from './errors.js';
import type { AddressSpace } from './address-space.js';

/**
 * A glibc-like malloc over one address space (glibc malloc/malloc.c is the model):
 *
 *   brk heap   [heapBase ....... chunks ....... | top chunk | ) program break
 *              small requests: best fit among free chunks (lowest address on ties), split
 *              when the rest is >= MIN_CHUNK, else carved from the top; the heap grows by
 *              sbrk(need + topPad). free() coalesces with free neighbours and with the top;
 *              when the top reaches trimThreshold the heap shrinks by sbrk(-(top - topPad)).
 *   mmap       requests whose chunk is >= mmapThreshold get their own mapping (chunk header
 *              + data rounded up to pages); free() munmaps it, realloc() mremaps it.
 *
 * Chunk geometry follows glibc on 64-bit: a chunk is a multiple of 16 bytes, at least 32, the
 * pointer is chunk + 16, and an in-use chunk's usable size is its size - 8 (it borrows the next
 * chunk's prev_size word). The bookkeeping lives in JS (not in the simulated bytes), so a stray
 * write cannot corrupt it — the addresses it hands out are what matter here: freeing and
 * allocating again reuses addresses the way glibc does, which is what makes registration
 * caches go stale.
 *
 * The allocator assumes it owns the program break. If someone else moves it, the allocator
 * starts a fresh top at the new break and leaves the old top as a free chunk.
 */
const ALIGN = 16;
const HEADER = 16; // pointer offset from the chunk start
const SIZE_SZ = 8;
const MIN_CHUNK = 32;

interface Chunk {
  start: number;
  size: number;
  free: boolean;
}

interface MmappedChunk {
  base: number;
  length: number;
}

export interface AllocatorOptions {
  /** chunks at or above this size are mmapped (default 128 KiB, glibc's M_MMAP_THRESHOLD) */
  mmapThreshold?: number;
  /** trim the heap top when it reaches this size (default 128 KiB, M_TRIM_THRESHOLD) */
  trimThreshold?: number;
  /** extra bytes asked for on each sbrk and kept on trim (default 128 KiB, M_TOP_PAD) */
  topPad?: number;
}

export interface AllocatorStats {
  mallocs: number;
  frees: number;
  reallocs: number;
  /** small requests served from a free chunk (reuse) */
  binHits: number;
  /** small requests carved from the top */
  topAllocs: number;
  inUseChunks: number;
  inUseBytes: number;
  freeChunks: number;
  freeBytes: number;
  heapBytes: number;
  topBytes: number;
  mmappedChunks: number;
  mmappedBytes: number;
  sbrkCalls: number;
  trims: number;
  trimmedBytes: number;
  mmapCalls: number;
  munmapCalls: number;
  mremapCalls: number;
  /** mremap refused (the chunk spans several mappings, or no room): kept in place, or malloc + copy + free */
  mremapFallbacks: number;
}

export class Allocator {
  readonly space: AddressSpace;
  readonly mmapThreshold: number;
  readonly trimThreshold: number;
  readonly topPad: number;
  private readonly chunks = new Map<number, Chunk>(); // by start, heap chunks in use or free (not the top)
  private readonly byEnd = new Map<number, Chunk>();
  /** free chunks ordered by (size, start) for best fit */
  private readonly bins: Chunk[] = [];
  private readonly mmapped = new Map<number, MmappedChunk>(); // by pointer
  private heapBase = -1;
  private top = -1;
  private heapEnd = -1;
  private readonly counts = {
    mallocs: 0,
    frees: 0,
    reallocs: 0,
    binHits: 0,
    topAllocs: 0,
    sbrkCalls: 0,
    trims: 0,
    trimmedBytes: 0,
    mmapCalls: 0,
    munmapCalls: 0,
    mremapCalls: 0,
    mremapFallbacks: 0,
  };

  constructor(space: AddressSpace, opts: AllocatorOptions = {}) {
    this.space = space;
    this.mmapThreshold = opts.mmapThreshold ?? 128 * 1024;
    this.trimThreshold = opts.trimThreshold ?? 128 * 1024;
    this.topPad = opts.topPad ?? 128 * 1024;
    for (const [name, v] of [
      ['mmapThreshold', this.mmapThreshold],
      ['trimThreshold', this.trimThreshold],
      ['topPad', this.topPad],
    ] as const) {
      if (!(v >= 0)) throw new InvalidArgument(`Allocator: ${name} must be >= 0, got ${v}`);
    }
  }

  malloc(size: number): number {
    if (!Number.isSafeInteger(size) || size < 0) throw new InvalidArgument(`malloc: size must be a non-negative integer, got ${size}`);
    this.counts.mallocs++;
    const nb = requestToChunk(size);
    if (nb >= this.mmapThreshold) return this.mmapChunk(nb);
    return this.heapChunk(nb) ?? this.mmapChunk(nb);
  }

  calloc(n: number, size: number): number {
    const total = n * size;
    if (!Number.isSafeInteger(total) || total < 0) throw new InvalidArgument(`calloc: ${n} * ${size} overflows or is negative`);
    const ptr = this.malloc(total);
    // fresh mappings are already zero (glibc skips the memset for mmapped chunks too)
    if (!this.mmapped.has(ptr) && total > 0) this.space.fill(ptr, total, 0);
    return ptr;
  }

  realloc(ptr: number, size: number): number {
    if (ptr === 0) return this.malloc(size);
    if (!Number.isSafeInteger(size) || size < 0) throw new InvalidArgument(`realloc: size must be a non-negative integer, got ${size}`);
    if (size === 0) {
      this.free(ptr);
      return 0;
    }
    this.counts.reallocs++;
    const nb = requestToChunk(size);
    const m = this.mmapped.get(ptr);
    if (m !== undefined) {
      const length = this.pageAlign(nb + SIZE_SZ);
      if (length === m.length) return ptr;
      this.counts.mremapCalls++;
      let base: number;
      try {
        base = this.space.mremap(m.base, m.length, length, { mayMove: true });
      } catch (err) {
        // EFAULT: the chunk spans several mappings now (mlock of a part splits it); ENOMEM: no room.
        // glibc: mremap_chunk fails, then "must alloc, copy, free".
        if (!(err instanceof VmError && (err.code === 'EFAULT' || err.code === 'ENOMEM'))) throw err;
        return this.reallocByCopy(ptr, m, nb, size);
      }
      this.mmapped.delete(ptr);
      this.mmapped.set(base + HEADER, { base, length });
      return base + HEADER;
    }
    const c = this.heapChunkOf(ptr, 'realloc');
    if (nb <= c.size) {
      this.shrinkInUse(c, nb);
      return ptr;
    }
    // grow in place into the top or a free neighbour
    if (c.start + c.size === this.top && nb < this.mmapThreshold && this.ensureTop(nb - c.size) && c.start + c.size === this.top) {
      this.takeFromTop(c, nb - c.size);
      return ptr;
    }
    const next = this.chunks.get(c.start + c.size);
    if (next !== undefined && next.free && c.size + next.size >= nb) {
      this.unbin(next);
      this.forget(next);
      this.resize(c, c.size + next.size);
      this.shrinkInUse(c, nb);
      return ptr;
    }
    const fresh = this.malloc(size);
    this.counts.mallocs--; // counted as a realloc, not a malloc
    this.space.copy(fresh, ptr, Math.min(c.size - SIZE_SZ, size));
    this.free(ptr);
    this.counts.frees--;
    return fresh;
  }

  /** glibc's realloc of an mmapped chunk when mremap refuses: keep it if it still fits, else malloc, copy, free. */
  private reallocByCopy(ptr: number, m: MmappedChunk, nb: number, size: number): number {
    this.counts.mremapFallbacks++;
    if (m.length - SIZE_SZ >= nb) return ptr;
    const fresh = this.malloc(size);
    this.counts.mallocs--; // counted as a realloc, not a malloc
    this.space.copy(fresh, ptr, m.length - HEADER);
    this.mmapped.delete(ptr);
    this.counts.munmapCalls++;
    this.space.munmap(m.base, m.length);
    return fresh;
  }

  free(ptr: number): void {
    if (ptr === 0) return;
    this.counts.frees++;
    const m = this.mmapped.get(ptr);
    if (m !== undefined) {
      this.mmapped.delete(ptr);
      this.counts.munmapCalls++;
      this.space.munmap(m.base, m.length);
      return;
    }
    const c = this.heapChunkOf(ptr, 'free');
    this.release(c);
    if (this.heapEnd - this.top >= this.trimThreshold) this.trim();
  }

  usableSize(ptr: number): number {
    const m = this.mmapped.get(ptr);
    if (m !== undefined) return m.length - HEADER;
    return this.heapChunkOf(ptr, 'usableSize').size - SIZE_SZ;
  }

  /** Whether ptr is a live allocation of this allocator. */
  owns(ptr: number): boolean {
    if (this.mmapped.has(ptr)) return true;
    const c = this.chunks.get(ptr - HEADER);
    return c !== undefined && !c.free;
  }

  get stats(): AllocatorStats {
    let inUseChunks = 0;
    let inUseBytes = 0;
    let freeChunks = 0;
    let freeBytes = 0;
    for (const c of this.chunks.values()) {
      if (c.free) {
        freeChunks++;
        freeBytes += c.size;
      } else {
        inUseChunks++;
        inUseBytes += c.size;
      }
    }
    let mmappedBytes = 0;
    for (const m of this.mmapped.values()) mmappedBytes += m.length;
    return {
      ...this.counts,
      inUseChunks,
      inUseBytes,
      freeChunks,
      freeBytes,
      heapBytes: this.heapBase < 0 ? 0 : this.heapEnd - this.heapBase,
      topBytes: this.heapBase < 0 ? 0 : this.heapEnd - this.top,
      mmappedChunks: this.mmapped.size,
      mmappedBytes,
    };
  }

  // ------------------------------------------------------------------ heap

  private heapChunk(nb: number): number | undefined {
    const fit = this.bestFit(nb);
    if (fit !== undefined) {
      this.unbin(fit);
      fit.free = false;
      this.shrinkInUse(fit, nb);
      this.counts.binHits++;
      return fit.start + HEADER;
    }
    if (!this.ensureTop(nb)) return undefined;
    const c: Chunk = { start: this.top, size: nb, free: false };
    this.top += nb;
    this.remember(c);
    this.counts.topAllocs++;
    return c.start + HEADER;
  }

  /** Make the top hold at least `need` bytes, growing the heap with sbrk. False if brk refuses. */
  private ensureTop(need: number): boolean {
    const brk = this.space.break;
    if (this.heapBase < 0 || brk !== this.heapEnd) {
      // first use, or someone else moved the break: start a new top at the current break
      if (this.heapBase >= 0 && this.heapEnd > this.top) {
        const old: Chunk = { start: this.top, size: this.heapEnd - this.top, free: true };
        this.remember(old);
        this.bin(old);
      }
      const base = Math.ceil(brk / ALIGN) * ALIGN;
      if (this.heapBase < 0) this.heapBase = base;
      this.top = base;
      this.heapEnd = brk;
    }
    const have = this.heapEnd - this.top;
    if (have >= need) return true;
    const inc = this.pageAlign(this.heapEnd + (need - have) + this.topPad) - this.heapEnd;
    try {
      this.counts.sbrkCalls++;
      this.space.sbrk(inc);
    } catch (err) {
      if (err instanceof OutOfMemory) return false;
      throw err;
    }
    this.heapEnd += inc;
    return true;
  }

  /** Extend in-use chunk c (which ends at the top) by `more` bytes from the top. */
  private takeFromTop(c: Chunk, more: number): void {
    this.resize(c, c.size + more);
    this.top += more;
    this.counts.topAllocs++;
  }

  /** Cut an in-use chunk down to nb bytes when the rest can stand as a chunk of its own. */
  private shrinkInUse(c: Chunk, nb: number): void {
    const rest = c.size - nb;
    if (rest < MIN_CHUNK) return;
    this.resize(c, nb);
    const tail: Chunk = { start: c.start + nb, size: rest, free: false };
    this.remember(tail);
    this.release(tail);
  }

  /** Mark free, coalesce with free neighbours and the top. */
  private release(c: Chunk): void {
    let cur = c;
    cur.free = true;
    const prev = this.byEnd.get(cur.start);
    if (prev !== undefined && prev.free) {
      this.unbin(prev);
      this.forget(cur);
      this.resize(prev, prev.size + cur.size);
      cur = prev;
    }
    const next = this.chunks.get(cur.start + cur.size);
    if (next !== undefined && next.free) {
      this.unbin(next);
      this.forget(next);
      this.resize(cur, cur.size + next.size);
    }
    if (cur.start + cur.size === this.top) {
      this.forget(cur);
      this.top = cur.start;
    } else {
      this.bin(cur);
    }
  }

  /** glibc systrim: give back whole pages of the top beyond topPad. */
  private trim(): void {
    if (this.space.break !== this.heapEnd) return; // someone else owns the break now
    const topSize = this.heapEnd - this.top;
    const extra = Math.floor((topSize - MIN_CHUNK - 1 - this.topPad) / this.space.pageSize) * this.space.pageSize;
    if (extra <= 0) return;
    this.counts.sbrkCalls++;
    this.space.sbrk(-extra);
    this.heapEnd -= extra;
    this.counts.trims++;
    this.counts.trimmedBytes += extra;
  }

  private heapChunkOf(ptr: number, what: string): Chunk {
    const c = this.chunks.get(ptr - HEADER);
    if (c === undefined) throw new InvalidArgument(`${what}(): invalid pointer 0x${ptr.toString(16)} (not returned by malloc)`);
    if (c.free) throw new InvalidArgument(`${what}(): double free or use after free of 0x${ptr.toString(16)}`);
    return c;
  }

  // ------------------------------------------------------------------ mmap

  private mmapChunk(nb: number): number {
    const length = this.pageAlign(nb + SIZE_SZ);
    this.counts.mmapCalls++;
    const base = this.space.mmap(length);
    this.mmapped.set(base + HEADER, { base, length });
    return base + HEADER;
  }

  // ------------------------------------------------------------------ bookkeeping

  private remember(c: Chunk): void {
    this.chunks.set(c.start, c);
    this.byEnd.set(c.start + c.size, c);
  }

  private forget(c: Chunk): void {
    this.chunks.delete(c.start);
    this.byEnd.delete(c.start + c.size);
  }

  private resize(c: Chunk, size: number): void {
    this.byEnd.delete(c.start + c.size);
    c.size = size;
    this.byEnd.set(c.start + c.size, c);
  }

  private binIndex(size: number, start: number): number {
    let lo = 0;
    let hi = this.bins.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const b = this.bins[mid]!;
      if (b.size < size || (b.size === size && b.start < start)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private bin(c: Chunk): void {
    this.bins.splice(this.binIndex(c.size, c.start), 0, c);
  }

  private unbin(c: Chunk): void {
    const i = this.binIndex(c.size, c.start);
    if (this.bins[i] === c) this.bins.splice(i, 1);
  }

  private bestFit(nb: number): Chunk | undefined {
    return this.bins[this.binIndex(nb, -1)];
  }

  private pageAlign(n: number): number {
    const ps = this.space.pageSize;
    return Math.ceil(n / ps) * ps;
  }
}

/** glibc request2size: header word added, 16-byte aligned, at least MIN_CHUNK. */
function requestToChunk(size: number): number {
  return Math.max(MIN_CHUNK, Math.ceil((size + SIZE_SZ) / ALIGN) * ALIGN);
}
