import { InvalidArgument, StaleView } from './errors.js';
import type { AddressSpace } from './address-space.js';
import { PteState, pteCow, pteIndex, pteProt, pteState } from './pte.js';
import { protAllows, type Access } from './prot.js';

/**
 * A window on [start, start + length) of an address space.
 *
 * The guarantee: every use goes through `bytes`, `read()` or `write()`, and each of them first
 * checks the address space's invalidation sequence (one atomic load). If it moved since the view
 * was made or last checked, the view re-reads the page table; if any page of its range now maps
 * a different frame, is gone, swapped out, or no longer allows the access, the use throws
 * StaleView instead of touching the old frames. `refresh()` translates again (faulting, so it
 * throws SegmentationFault if the range is no longer mapped).
 *
 * What the view cannot police: a Uint8Array obtained from `bytes` is a plain typed array over
 * the node's SharedArrayBuffer. Use it right away and fetch `bytes` again after anything that can
 * change mappings (munmap, free, mremap, madvise, migrate, reclaim); never keep it.
 *
 * Zero-copy needs the pages to sit on consecutive frames (`contiguous`); otherwise `bytes`
 * throws and `read()` / `write()` copy through the page table.
 */
export class MappedView {
  readonly start: number;
  readonly length: number;
  readonly access: Access;
  private seq = 0;
  private frames: number[] = [];
  private array: Uint8Array | undefined;
  private readonly space: AddressSpace;

  constructor(space: AddressSpace, start: number, length: number, access: Access) {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(length) || length <= 0) {
      throw new InvalidArgument(`view: bad range start=${start} length=${length}`);
    }
    this.space = space;
    this.start = start;
    this.length = length;
    this.access = access;
    this.refresh();
  }

  get contiguous(): boolean {
    return this.array !== undefined;
  }

  /** True when the view still maps what it mapped (revalidates after a mapping change). */
  get valid(): boolean {
    try {
      this.check();
      return true;
    } catch (err) {
      if (err instanceof StaleView) return false;
      throw err;
    }
  }

  /** The zero-copy bytes. Throws StaleView after a change under the range; InvalidArgument if not contiguous. */
  get bytes(): Uint8Array {
    this.check();
    if (this.array === undefined) {
      throw new InvalidArgument(
        `view of [0x${this.start.toString(16)}, +${this.length}) spans non-consecutive frames: use read()/write() or AddressSpace.runs()`,
      );
    }
    return this.array;
  }

  read(): Uint8Array {
    this.check();
    return this.array !== undefined ? this.array.slice() : this.space.read(this.start, this.length);
  }

  write(data: Uint8Array, offset = 0): void {
    this.check();
    if (this.access !== 'write') throw new InvalidArgument('view: write through a read view');
    if (offset < 0 || offset + data.length > this.length) throw new InvalidArgument('view: write past the end of the view');
    if (this.array !== undefined) this.array.set(data, offset);
    else this.space.write(this.start + offset, data);
  }

  /** Translate again (faulting pages in); the view then maps the current frames. */
  refresh(): this {
    const ps = this.space.pageSize;
    this.seq = this.space.readBegin();
    const first = Math.floor(this.start / ps);
    const last = Math.floor((this.start + this.length - 1) / ps);
    const frames: number[] = [];
    for (let p = first; p <= last; p++) frames.push(this.space.table.frame(p, this.access));
    this.frames = frames;
    let consecutive = true;
    for (let i = 1; i < frames.length; i++) if (frames[i] !== frames[0]! + i) consecutive = false;
    this.array = consecutive
      ? new Uint8Array(this.space.memory.bytes.buffer, frames[0]! * ps + (this.start % ps), this.length)
      : undefined;
    return this;
  }

  private check(): void {
    if (!this.space.readRetry(this.seq)) return;
    if (this.space.hasExited) throw new StaleView(this.start, this.length, 'the process has exited');
    const seq = this.space.readBegin();
    const ps = this.space.pageSize;
    const first = Math.floor(this.start / ps);
    for (let i = 0; i < this.frames.length; i++) {
      const e = Atomics.load(this.space.table.entries, first + i);
      if (pteState(e) !== PteState.PRESENT || pteIndex(e) !== this.frames[i]) {
        throw new StaleView(this.start, this.length, `page 0x${((first + i) * ps).toString(16)} no longer maps the frame the view was made on`);
      }
      if (!protAllows(pteProt(e), this.access)) {
        throw new StaleView(this.start, this.length, `page 0x${((first + i) * ps).toString(16)} no longer allows ${this.access}`);
      }
      if (this.access === 'write' && pteCow(e)) {
        throw new StaleView(this.start, this.length, `page 0x${((first + i) * ps).toString(16)} is copy-on-write since a fork (its frame is shared)`);
      }
    }
    this.seq = seq;
  }
}
