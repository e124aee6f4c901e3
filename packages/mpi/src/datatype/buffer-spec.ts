import { InvalidArgument, InvalidBuffer, InvalidType } from '../errors.js';
import { TypedBuffer, describe, type TypedArray, type TypedArrayCtor } from '../typed-buffer.js';
import { BYTE, Datatype } from './datatype.js';
import type { Segment } from './typemap.js';

/**
 * A buffer argument: a TypedBuffer (all of it, its own element type), or mpi4py's buffer spec
 * `[buf, count, datatype]` — `count` elements of `datatype` laid out from buf's first byte.
 */
export type BufferSpec<T extends TypedArray = TypedArray> = TypedBuffer<T> | readonly [buf: TypedBuffer<T>, count: number, datatype: Datatype];

/** An absolute byte range of the rank's memory. */
export interface MemorySegment {
  readonly addr: number;
  readonly length: number;
}

/**
 * A buffer argument once checked: the buffer, how many elements of which type, and where their
 * bytes are. `bytes` is the message length (count × datatype.size, the data without the gaps).
 */
export class BufferArg {
  readonly bytes: number;
  /** One run of bytes at `dataAddr` (no gaps, in address order): sent and received in place. */
  readonly contiguous: boolean;
  private flat: MemorySegment[] | undefined;

  constructor(readonly buf: TypedBuffer, readonly count: number, readonly datatype: Datatype) {
    this.bytes = count * datatype.size;
    this.contiguous = datatype.isContiguous(count);
  }

  /** Where the data starts (the first byte of a contiguous argument). */
  get dataAddr(): number {
    return this.buf.addr + (this.bytes === 0 ? 0 : this.datatype.trueLb);
  }

  /** What a status counts in: one datatype's bytes (1 for an empty type, which never divides anything). */
  get elementSize(): number {
    return this.datatype.size || 1;
  }

  /** The data's byte ranges in typemap order, coalesced. */
  segments(): readonly MemorySegment[] {
    this.flat ??= this.datatype.flatten(this.count).map((s: Segment) => ({ addr: this.buf.addr + s.offset, length: s.length }));
    return this.flat;
  }

  /** The lowest and highest address the data touches: what one registration of the whole argument covers. */
  span(): MemorySegment {
    const s = this.datatype.span(this.count);
    return { addr: this.buf.addr + s.lb, length: s.ub - s.lb };
  }
}

/** `spec` checked and normalised: `checkTyped` vets the TypedBuffer (memory, freed); the rest is the datatype's. */
export function normalizeSpec(spec: BufferSpec, op: string, checkTyped: (buf: TypedBuffer, op: string) => TypedBuffer): BufferArg {
  if (!Array.isArray(spec)) {
    const buf = checkTyped(spec as TypedBuffer, op);
    return new BufferArg(buf, buf.count, Datatype.of(buf.type));
  }
  if (spec.length !== 3) {
    throw new InvalidArgument('buffer', `${op}(): a buffer spec is [buf, count, datatype], got an array of ${spec.length}`);
  }
  const [b, count, datatype] = spec as unknown as [TypedBuffer, unknown, unknown];
  const buf = checkTyped(b, op);
  if (!Number.isSafeInteger(count) || (count as number) < 0) {
    throw new InvalidArgument('count', `${op}(): the count of [buf, count, datatype] must be an integer >= 0, got ${String(count)}`);
  }
  if (!(datatype instanceof Datatype)) {
    throw new InvalidType(`${op}(): the datatype of [buf, count, datatype] must be a Datatype (FLOAT64, Datatype.vector(…).commit() …), got ${describe(datatype)}`);
  }
  if (datatype.freed) throw new InvalidType(`${op}(): datatype ${datatype.name} was freed; build and commit a new one`);
  if (!datatype.committed) throw new InvalidType(`${op}(): datatype ${datatype.name} is not committed; call .commit() on it before using it`);
  const basic = datatype.basic;
  if (basic !== undefined && basic !== BYTE && basic.ctor !== buf.type) {
    throw new InvalidType(`${op}(): datatype ${datatype.name} is made of ${basic.name} but the buffer holds ${buf.type.name}; use a buffer of ${basic.ctor!.name} or a datatype of ${buf.type.name}`);
  }
  const arg = new BufferArg(buf, count as number, datatype);
  const span = datatype.span(arg.count);
  if (arg.bytes > 0 && (span.lb < 0 || span.ub > buf.byteLength)) {
    throw new InvalidBuffer(
      `${op}(): ${arg.count} × ${datatype.name} touch bytes [${span.lb}, ${span.ub}) of a buffer of ${buf.byteLength} bytes; ` +
      'allocate a larger buffer or pass a smaller count',
    );
  }
  return arg;
}

/** The TypedArray kind a contiguous argument's bytes (or a packed copy of them) are viewed as. */
export function viewType(arg: BufferArg): TypedArrayCtor {
  const own = arg.datatype.basic?.ctor;
  if (own !== undefined) return own;
  const t = arg.buf.type;
  return arg.bytes % t.BYTES_PER_ELEMENT === 0 && arg.dataAddr % t.BYTES_PER_ELEMENT === 0 ? t : (Uint8Array as unknown as TypedArrayCtor);
}
