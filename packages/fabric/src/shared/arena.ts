import { AdapterTableFull } from '../errors.js';
import { lock, unlock } from './lock.js';

/**
 * The adapter's shared arena: MR page tables, CQ rings, receive rings and parked-send rings,
 * allocated by whichever rank's thread needs them (registration runs on many threads at once).
 *
 * Power-of-two size classes from 64 bytes up; each class has a free list threaded through the
 * first word of its free chunks, and fresh chunks come from a bump pointer. O(1) allocate and
 * free, no coalescing: the shapes that repeat (CQ rings, a buffer registered again and again)
 * reuse their own class.
 *
 * Header cells (Int32, shared): [LOCK, BUMP (in 8-byte words), FREE_HEAD[class]...]; every
 * field is changed only under LOCK.
 */
const LOCK = 0;
const BUMP = 1;
const FREE_HEAD = 2;
const MIN_SHIFT = 6; // 64 bytes
const CLASSES = 32;
export const ARENA_HEADER_CELLS = FREE_HEAD + CLASSES;

export class Arena {
  /** The arena as 8-byte words (CQ and ring entries are Float64). */
  readonly f64: Float64Array;
  /** The same bytes as Int32 cells (page-table entries); index = 2 × word offset. */
  readonly i32: Int32Array;
  private readonly header: Int32Array;
  private readonly words: number;

  constructor(header: Int32Array, data: SharedArrayBuffer, fresh: boolean) {
    this.header = header;
    this.f64 = new Float64Array(data);
    this.i32 = new Int32Array(data);
    this.words = this.f64.length;
    if (fresh) for (let c = 0; c < CLASSES; c++) this.header[FREE_HEAD + c] = -1;
  }

  /** Allocate at least `bytes` bytes; returns the offset in 8-byte words. */
  alloc(bytes: number, what: string): number {
    const shift = Math.max(MIN_SHIFT, Math.ceil(Math.log2(Math.max(1, bytes))));
    const cls = shift - MIN_SHIFT;
    const chunkWords = 2 ** shift / 8;
    lock(this.header, LOCK);
    try {
      const head = this.header[FREE_HEAD + cls]!;
      if (head >= 0) {
        this.header[FREE_HEAD + cls] = this.i32[head * 2]!;
        return head;
      }
      const at = this.header[BUMP]!;
      if (cls >= CLASSES || at + chunkWords > this.words) {
        throw new AdapterTableFull(`shared arena (allocating ${bytes} bytes for ${what})`, 'arenaBytes', this.words * 8);
      }
      this.header[BUMP] = at + chunkWords;
      return at;
    } finally {
      unlock(this.header, LOCK);
    }
  }

  /** Return a chunk obtained from alloc(bytes) with the same `bytes`. */
  free(word: number, bytes: number): void {
    const shift = Math.max(MIN_SHIFT, Math.ceil(Math.log2(Math.max(1, bytes))));
    const cls = shift - MIN_SHIFT;
    lock(this.header, LOCK);
    this.i32[word * 2] = this.header[FREE_HEAD + cls]!;
    this.header[FREE_HEAD + cls] = word;
    unlock(this.header, LOCK);
  }

  /** Bytes handed out by the bump pointer so far (high-water mark). */
  get highWaterBytes(): number {
    return Atomics.load(this.header, BUMP) * 8;
  }
}
