import { InvalidArgument, InvalidType } from '../errors.js';
import type { TypedArrayCtor } from '../typed-buffer.js';
import * as build from './constructors.js';
import { appendRuns, repeatSegments, trueBounds, type ElementRun, type Segment } from './typemap.js';

/** One block of a new type: `count` elements of `type` laid end to end (by its extent) from byte `displacement`. */
export interface Block {
  readonly displacement: number;
  readonly count: number;
  readonly type: Datatype;
}

/** Row-major ('C', MPI_ORDER_C) or column-major ('Fortran', MPI_ORDER_FORTRAN) for subarray(). */
export type ArrayOrder = 'C' | 'Fortran';

const enum State { BUILT, COMMITTED, FREED }

/**
 * An MPI datatype: a typemap (which bytes of a buffer, in which order) and its bounds. Predefined
 * types (INT8 … FLOAT64, BIGINT64, BIGUINT64, BYTE) are ready to use; a derived type from the
 * constructors must be commit()ted before a call uses it, and free() ends it (types built from it
 * keep working, as in MPI).
 */
export class Datatype {
  /** One element's layout: coalesced byte segments in typemap order, relative to the buffer's start. */
  readonly segments: readonly Segment[];
  /** Bytes of data in one element (MPI_Type_size). */
  readonly size: number;
  /** Lower bound and upper bound (MPI_Type_get_extent): where the next element starts is lb + extent later. */
  readonly lb: number;
  readonly ub: number;
  /** The bytes one element really touches (MPI_Type_get_true_extent). */
  readonly trueLb: number;
  readonly trueUb: number;
  /** @internal the basic elements of one element, in typemap order */ readonly runs: readonly ElementRun[];
  /** @internal the one predefined type this is made of (undefined: several kinds) */ readonly basic: Datatype | undefined;
  /** @internal the largest basic element's size: a struct's extent is padded to a multiple of it */ readonly alignment: number;
  /** @internal the TypedArray kind of a predefined type (undefined for BYTE and derived types) */ readonly ctor: TypedArrayCtor | undefined;
  readonly predefined: boolean;
  private state: State;

  /** @internal use the constructors (Datatype.vector, …) or the predefined types */
  constructor(
    readonly name: string,
    layout: { segments: Segment[]; lb: number; ub: number; runs: ElementRun[]; basic: Datatype | undefined | 'self'; alignment: number },
    predefined: TypedArrayCtor | 'byte' | false,
  ) {
    this.segments = layout.segments;
    this.size = layout.segments.reduce((n, s) => n + s.length, 0);
    this.lb = layout.lb;
    this.ub = layout.ub;
    const t = trueBounds(layout.segments);
    this.trueLb = t.lb;
    this.trueUb = t.ub;
    this.runs = layout.runs;
    this.basic = layout.basic === 'self' ? this : layout.basic;
    this.alignment = layout.alignment;
    this.predefined = predefined !== false;
    this.ctor = typeof predefined === 'function' ? predefined : undefined;
    this.state = this.predefined ? State.COMMITTED : State.BUILT;
  }

  get extent(): number {
    return this.ub - this.lb;
  }

  get trueExtent(): number {
    return this.trueUb - this.trueLb;
  }

  get committed(): boolean {
    return this.state === State.COMMITTED;
  }

  get freed(): boolean {
    return this.state === State.FREED;
  }

  /** MPI_Type_commit: the type may now be used in communication. Returns the type itself. */
  commit(): this {
    if (this.state === State.FREED) throw new InvalidType(`commit(): datatype ${this.name} was freed; build a new one`);
    this.state = State.COMMITTED;
    return this;
  }

  /** MPI_Type_free. Types built from this one are not affected. */
  free(): void {
    if (this.predefined) throw new InvalidType(`free(): ${this.name} is a predefined datatype and cannot be freed`);
    if (this.state === State.FREED) throw new InvalidType(`free(): datatype ${this.name} was already freed`);
    this.state = State.FREED;
  }

  /** True when `count` elements are one run of bytes starting at byte trueLb (no gaps, in address order). */
  isContiguous(count = 1): boolean {
    if (this.size === 0 || count === 0) return true;
    return this.segments.length === 1 && (count === 1 || this.extent === this.size);
  }

  /** The byte segments of `count` elements, relative to the buffer's start, coalesced. */
  flatten(count: number): Segment[] {
    const out: Segment[] = [];
    repeatSegments(out, this.segments, 0, count, this.extent);
    return out;
  }

  /** The [lowest, highest) bytes `count` elements touch, relative to the buffer's start. */
  span(count: number): { lb: number; ub: number } {
    if (count === 0 || this.size === 0) return { lb: 0, ub: 0 };
    const last = (count - 1) * this.extent;
    return { lb: Math.min(this.trueLb, this.trueLb + last), ub: Math.max(this.trueUb, this.trueUb + last) };
  }

  toString(): string {
    return this.name;
  }

  // ───────────────────────── constructors (MPI_Type_create_*) ─────────────────────────

  /** `count` copies of `old`, end to end (MPI_Type_contiguous). */
  static contiguous(count: number, old: Datatype): Datatype {
    return build.contiguous(count, old);
  }

  /** `count` blocks of `blocklength` elements, block starts `stride` elements of `old` apart (MPI_Type_vector). */
  static vector(count: number, blocklength: number, stride: number, old: Datatype): Datatype {
    return build.vector(count, blocklength, stride, old, false);
  }

  /** As vector(), the stride in bytes (MPI_Type_create_hvector). */
  static hvector(count: number, blocklength: number, strideBytes: number, old: Datatype): Datatype {
    return build.vector(count, blocklength, strideBytes, old, true);
  }

  /** Blocks of blocklengths[i] elements at displacements[i] elements of `old` (MPI_Type_indexed). */
  static indexed(blocklengths: readonly number[], displacements: readonly number[], old: Datatype): Datatype {
    return build.indexed(blocklengths, displacements, old, false);
  }

  /** As indexed(), the displacements in bytes (MPI_Type_create_hindexed). */
  static hindexed(blocklengths: readonly number[], displacementsBytes: readonly number[], old: Datatype): Datatype {
    return build.indexed(blocklengths, displacementsBytes, old, true);
  }

  /** Blocks of one length at displacements (in elements) (MPI_Type_create_indexed_block). */
  static indexedBlock(blocklength: number, displacements: readonly number[], old: Datatype): Datatype {
    return build.indexed(displacements.map(() => blocklength), displacements, old, false);
  }

  /** Blocks of different types at byte displacements (MPI_Type_create_struct); the extent is padded to the largest element's alignment. */
  static struct(blocklengths: readonly number[], displacementsBytes: readonly number[], types: readonly Datatype[]): Datatype {
    return build.struct(blocklengths, displacementsBytes, types);
  }

  /** A sub-block of an n-dimensional array (MPI_Type_create_subarray); the extent is the whole array's. */
  static subarray(sizes: readonly number[], subsizes: readonly number[], starts: readonly number[], order: ArrayOrder, old: Datatype): Datatype {
    return build.subarray(sizes, subsizes, starts, order, old);
  }

  /** `old` with new bounds: lower bound `lb`, extent `extent` bytes (MPI_Type_create_resized). */
  static resized(old: Datatype, lb: number, extent: number): Datatype {
    return build.resized(old, lb, extent);
  }

  /** A copy of `old` (MPI_Type_dup), uncommitted. */
  static dup(old: Datatype): Datatype {
    return build.resized(old, old.lb, old.extent, `dup(${old.name})`);
  }

  /** The predefined type of a TypedArray kind: Datatype.of(Float64Array) is FLOAT64. */
  static of(ctor: TypedArrayCtor): Datatype {
    const t = PREDEFINED.get(ctor);
    if (t === undefined) throw new InvalidType(`Datatype.of(): expected a TypedArray constructor such as Float64Array, got ${String(ctor?.name ?? ctor)}`);
    return t;
  }

  /** @internal the type made of `blocks` (the layout and bounds every constructor shares) */
  static fromBlocks(name: string, blocks: readonly Block[], padToAlignment = false): Datatype {
    const segments: Segment[] = [];
    const runs: ElementRun[] = [];
    let lb = Infinity;
    let ub = -Infinity;
    let basic: Datatype | undefined | null = null;
    let alignment = 1;
    for (const b of blocks) {
      if (b.count === 0) continue;
      const t = b.type;
      repeatSegments(segments, t.segments, b.displacement, b.count, t.extent);
      appendRuns(runs, t.runs, b.count);
      const first = b.displacement;
      const last = b.displacement + (b.count - 1) * t.extent;
      lb = Math.min(lb, first + t.lb, last + t.lb);
      ub = Math.max(ub, first + t.ub, last + t.ub);
      basic = basic === null || basic === t.basic ? t.basic : undefined;
      alignment = Math.max(alignment, t.alignment);
    }
    if (lb === Infinity) lb = ub = 0;
    if (padToAlignment) {
      const extent = ub - lb;
      ub = lb + Math.ceil(extent / alignment) * alignment;
    }
    return new Datatype(name, { segments, lb, ub, runs, basic: basic ?? undefined, alignment }, false);
  }

  /** @internal a derived type's argument check */
  static checkOld(old: unknown, what: string): asserts old is Datatype {
    if (!(old instanceof Datatype)) throw new InvalidType(`${what}: expected a Datatype (FLOAT64, or one built with Datatype.vector() …), got ${String(old)}`);
    if (old.freed) throw new InvalidType(`${what}: datatype ${old.name} was freed`);
  }

  /** @internal */
  static checkCount(n: unknown, what: string): asserts n is number {
    if (!Number.isSafeInteger(n) || (n as number) < 0) throw new InvalidArgument(what, `expected an integer >= 0, got ${String(n)}`);
  }
}

function predefined(name: string, ctor: TypedArrayCtor | 'byte', bytes: number): Datatype {
  return new Datatype(
    name,
    { segments: [{ offset: 0, length: bytes }], lb: 0, ub: bytes, runs: [{ size: bytes, n: 1 }], basic: 'self', alignment: bytes },
    ctor,
  );
}

export const INT8 = predefined('INT8', Int8Array as unknown as TypedArrayCtor, 1);
export const UINT8 = predefined('UINT8', Uint8Array as unknown as TypedArrayCtor, 1);
export const INT16 = predefined('INT16', Int16Array as unknown as TypedArrayCtor, 2);
export const UINT16 = predefined('UINT16', Uint16Array as unknown as TypedArrayCtor, 2);
export const INT32 = predefined('INT32', Int32Array as unknown as TypedArrayCtor, 4);
export const UINT32 = predefined('UINT32', Uint32Array as unknown as TypedArrayCtor, 4);
export const FLOAT32 = predefined('FLOAT32', Float32Array as unknown as TypedArrayCtor, 4);
export const FLOAT64 = predefined('FLOAT64', Float64Array as unknown as TypedArrayCtor, 8);
export const BIGINT64 = predefined('BIGINT64', BigInt64Array as unknown as TypedArrayCtor, 8);
export const BIGUINT64 = predefined('BIGUINT64', BigUint64Array as unknown as TypedArrayCtor, 8);
/** Untyped bytes (MPI_BYTE): fits a buffer of any element type. */
export const BYTE = predefined('BYTE', 'byte', 1);

const PREDEFINED = new Map<unknown, Datatype>(
  [INT8, UINT8, INT16, UINT16, INT32, UINT32, FLOAT32, FLOAT64, BIGINT64, BIGUINT64].map((t) => [t.ctor, t]),
);
