import { InvalidArgument, InvalidBuffer } from './errors.js';

export type TypedArray =
  | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array
  | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

export interface TypedArrayCtor<T extends TypedArray = TypedArray> {
  new (length: number): T;
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): T;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
}

const CTORS: readonly TypedArrayCtor[] = [
  Int8Array, Uint8Array, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
] as unknown as TypedArrayCtor[];

export function isTypedArrayCtor(x: unknown): x is TypedArrayCtor {
  return CTORS.includes(x as TypedArrayCtor);
}

/** What a TypedBuffer needs from its rank: the address space (through the page table) and the heap. */
export interface BufferMemory {
  read(addr: number, length: number): Uint8Array;
  write(addr: number, data: ArrayBufferView): void;
  free(addr: number): void;
  /** A zero-copy window on [addr, addr+length) when its pages sit on consecutive frames. */
  window(addr: number, length: number): Uint8Array | undefined;
}

/**
 * `count` elements of `type` at virtual address `addr` of the rank's simulated memory. Every access
 * goes through the rank's page table, so a buffer freed (or unmapped) and used again fails with a
 * SegmentationFault instead of reading someone else's bytes.
 */
export class TypedBuffer<T extends TypedArray = TypedArray> {
  readonly addr: number;
  readonly count: number;
  readonly type: TypedArrayCtor<T>;
  readonly byteLength: number;
  /** @internal */ readonly memory: BufferMemory;
  /** @internal true when alloc() made it (so free() may give it back) */ readonly owned: boolean;
  private freed = false;

  /** @internal use comm.alloc() or comm.wrap() */
  constructor(memory: BufferMemory, type: TypedArrayCtor<T>, addr: number, count: number, owned: boolean) {
    if (!isTypedArrayCtor(type)) {
      throw new InvalidArgument('type', `expected a TypedArray constructor such as Float64Array, got ${describe(type)}`);
    }
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new InvalidArgument('count', `expected an integer >= 0, got ${String(count)}`);
    }
    if (!Number.isSafeInteger(addr) || addr < 0) {
      throw new InvalidArgument('addr', `expected a virtual address (integer >= 0), got ${String(addr)}`);
    }
    this.memory = memory;
    this.type = type;
    this.addr = addr;
    this.count = count;
    this.byteLength = count * type.BYTES_PER_ELEMENT;
    this.owned = owned;
  }

  /** A copy of the contents, read through the page table. */
  toArray(): T {
    this.checkLive();
    if (this.byteLength === 0) return new this.type(0);
    const bytes = this.memory.read(this.addr, this.byteLength);
    return new this.type(bytes.buffer, bytes.byteOffset, this.count);
  }

  /** Writes `data` (numbers, or bigints for the BigInt types) starting at element `offset`. */
  set(data: ArrayLike<number | bigint>, offset = 0): void {
    this.checkLive();
    if (!Number.isInteger(offset) || offset < 0 || offset + data.length > this.count) {
      throw new InvalidArgument('offset', `${data.length} elements at offset ${offset} do not fit in a buffer of ${this.count}`);
    }
    if (data.length === 0) return;
    const typed = data instanceof this.type ? (data as T) : new this.type(data.length);
    if (typed !== data) (typed as unknown as { set(a: ArrayLike<unknown>): void }).set(data);
    this.memory.write(this.addr + offset * this.type.BYTES_PER_ELEMENT, typed);
  }

  /** Fills every element with `value`. */
  fill(value: number | bigint): void {
    const a = new this.type(this.count);
    (a as unknown as { fill(v: unknown): void }).fill(value);
    this.set(a as unknown as ArrayLike<number>);
  }

  /**
   * A zero-copy typed array over the frames, when the pages sit on consecutive frames; otherwise
   * InvalidArgument (use toArray()/set()). Valid until the next change to this memory's mapping
   * (free, munmap, migrate...): fetch it again after such a change, never keep it.
   */
  view(): T {
    this.checkLive();
    if (this.byteLength === 0) return new this.type(0);
    const w = this.memory.window(this.addr, this.byteLength);
    if (!w || w.byteOffset % this.type.BYTES_PER_ELEMENT !== 0) {
      throw new InvalidArgument('view', `the buffer at 0x${this.addr.toString(16)} is not on consecutive frames: use toArray() and set()`);
    }
    return new this.type(w.buffer, w.byteOffset, this.count);
  }

  /** Elements [begin, end) as a buffer over the same memory (no copy). */
  subarray(begin: number, end = this.count): TypedBuffer<T> {
    if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end > this.count || begin > end) {
      throw new InvalidArgument('subarray', `range [${begin}, ${end}) is outside [0, ${this.count})`);
    }
    return new TypedBuffer(this.memory, this.type, this.addr + begin * this.type.BYTES_PER_ELEMENT, end - begin, false);
  }

  /** Gives the memory back to the rank's allocator (only for buffers from alloc()). */
  free(): void {
    if (!this.owned) throw new InvalidBuffer('free(): this buffer was not made by alloc() (a wrap() or a subarray); free the memory you allocated');
    if (this.freed) throw new InvalidBuffer(`free(): the buffer at 0x${this.addr.toString(16)} was already freed`);
    this.freed = true;
    this.memory.free(this.addr);
  }

  get isFreed(): boolean {
    return this.freed;
  }

  private checkLive(): void {
    if (this.freed) throw new InvalidBuffer(`the buffer at 0x${this.addr.toString(16)} was freed: allocate a new one with comm.alloc()`);
  }
}

export function describe(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x === 'function') return `function ${x.name || '(anonymous)'}`;
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'object';
  return `${typeof x} ${String(x)}`;
}
