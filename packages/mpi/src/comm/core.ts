import type { AddressSpace, Allocator } from '@tsmpi/vm';
import { ANY_SOURCE, ANY_TAG, PROC_NULL } from '../constants.js';
import { InvalidArgument, InvalidBuffer, InvalidRank, InvalidTag, InvalidType, TAG_UB } from '../errors.js';
import type { Route, Target } from '../p2p/operations.js';
import type { RankRuntimeFace } from '../rank/runtime-face.js';
import type { RankStats } from '../stats.js';
import { Group } from '../group.js';
import { compareComms, freeComm, getName, setName } from './lifecycle.js';
import { TypedBuffer, describe, isTypedArrayCtor, type TypedArray, type TypedArrayCtor } from '../typed-buffer.js';
import { normalizeSpec, type BufferArg, type BufferSpec } from '../datatype/buffer-spec.js';
import { CollectiveStaging, receiveTarget } from '../datatype/staging.js';
import { Datatype } from '../datatype/datatype.js';
import { freeScratch } from '../collectives/scratch.js';
import { packInto, unpackFrom } from '../datatype/pack.js';

/**
 * What every communicator has: its group, context and route, the rank's memory, clock and
 * counters, and the argument checks its calls share. The calls themselves come in layers above
 * it (comm/point-to-point.ts, comm/collective-calls.ts, comm.ts).
 */
export abstract class CommCore {
  /** This rank's rank in the communicator. */
  readonly rank: number;
  readonly size: number;
  /** @internal */ readonly runtime: RankRuntimeFace;
  /** @internal world rank of each rank of this communicator (for an intercommunicator: of the local group) */ readonly members: readonly number[];
  /** @internal even for user communicators; the twin has context + 1 */ readonly context: number;
  /** @internal */ readonly route: Route;

  /**
   * @internal created by init(), dup(), split() and the calls of comm/create.ts. An intercommunicator
   * passes its remote group: its ranks name the remote group's members (route.size is their count).
   */
  constructor(runtime: RankRuntimeFace, group: readonly number[], context: number, remote?: readonly number[]) {
    this.runtime = runtime;
    this.members = group;
    this.context = context;
    this.size = group.length;
    this.rank = group.indexOf(runtime.worldRank);
    const peers = remote ?? group;
    this.route = { context, rank: this.rank, size: peers.length, world: (r: number) => peers[r]! };
  }

  // ───────────────────────── memory ─────────────────────────

  /** `count` elements of `type` from the rank's heap (malloc). Free them with buf.free(). */
  alloc<T extends TypedArray>(type: TypedArrayCtor<T>, count: number): TypedBuffer<T> {
    if (!isTypedArrayCtor(type)) throw new InvalidType(`alloc(): expected a TypedArray constructor such as Float64Array, got ${describe(type)}`);
    if (!Number.isSafeInteger(count) || count < 0) throw new InvalidArgument('count', `expected an integer >= 0, got ${String(count)}`);
    const addr = this.runtime.heap.malloc(Math.max(1, count * type.BYTES_PER_ELEMENT));
    return new TypedBuffer(this.runtime.memory, type, addr, count, true);
  }

  /** A typed buffer over memory the program manages itself (mmap, malloc); never freed by the buffer. */
  wrap<T extends TypedArray>(type: TypedArrayCtor<T>, addr: number, count: number): TypedBuffer<T> {
    if (!isTypedArrayCtor(type)) throw new InvalidType(`wrap(): expected a TypedArray constructor such as Float64Array, got ${describe(type)}`);
    return new TypedBuffer(this.runtime.memory, type, addr, count, false);
  }

  /** The rank's address space (@tsmpi/vm AddressSpace): mmap, munmap, sbrk, migrate... to move memory under the cache. */
  get space(): AddressSpace {
    return this.runtime.space;
  }

  /** The rank's allocator (@tsmpi/vm Allocator): malloc, free, realloc. */
  get heap(): Allocator {
    return this.runtime.heap;
  }

  // ───────────────────────── pack / unpack (MPI_Pack, MPI_Unpack) ─────────────────────────

  /** Bytes pack() needs for `count` elements of `datatype` (MPI_Pack_size). */
  packSize(count: number, datatype: Datatype): number {
    Datatype.checkCount(count, 'packSize count');
    Datatype.checkOld(datatype, 'packSize()');
    return count * datatype.size;
  }

  /** Packs `spec`'s data into `out` from byte `position`; returns the position after it (charged at the memcpy rate). */
  pack(spec: BufferSpec, out: TypedBuffer, position = 0): number {
    const arg = this.checkBuffer(spec, 'pack');
    const dst = this.checkTyped(out, 'pack');
    this.checkPosition(position, arg.bytes, dst, 'pack');
    const bytes = new Uint8Array(arg.bytes);
    packInto(arg, bytes);
    if (bytes.length > 0) dst.memory.write(dst.addr + position, bytes);
    this.chargeLocal(arg.bytes);
    return position + arg.bytes;
  }

  /** Unpacks from `input` at byte `position` into `spec`; returns the position after what it read. */
  unpack(input: TypedBuffer, position: number, spec: BufferSpec): number {
    const src = this.checkTyped(input, 'unpack');
    const arg = this.checkBuffer(spec, 'unpack');
    this.checkPosition(position, arg.bytes, src, 'unpack');
    if (arg.bytes > 0) unpackFrom(arg, src.memory.read(src.addr + position, arg.bytes));
    this.chargeLocal(arg.bytes);
    return position + arg.bytes;
  }

  private checkPosition(position: number, bytes: number, buf: TypedBuffer, op: string): void {
    if (!Number.isSafeInteger(position) || position < 0) throw new InvalidArgument('position', `${op}(): expected a byte offset >= 0, got ${String(position)}`);
    if (position + bytes > buf.byteLength) {
      throw new InvalidBuffer(`${op}(): ${bytes} bytes at position ${position} overrun the packed buffer of ${buf.byteLength} bytes; size it with packSize()`);
    }
  }

  // ───────────────────────── time, stats, control ─────────────────────────

  /** The rank's virtual clock in seconds (like MPI.Wtime, but modeled time). */
  wtime(): number {
    return this.runtime.clock.now / 1e6;
  }

  /** Charges `seconds` of modelled work to the virtual clock as compute (SMPI's smpi_execute), in any --compute mode. */
  compute(seconds: number): void {
    this.runtime.clock.compute(seconds * 1e6);
  }

  /** The rank's counters: message layer, registration cache and adapter. */
  stats(): RankStats {
    return this.runtime.stats();
  }

  /**
   * @internal Charges local work of a collective (a copy, a reduction pass) to this rank's
   * program clock at the cost model's memcpy rate; returns the µs charged.
   */
  chargeLocal(bytes: number): number {
    return this.runtime.engine.chargeLocalCopy(bytes);
  }

  /** Ends the whole job with exit code `code` (MPI_Abort). */
  abort(code = 1, message = 'abort() called'): never {
    return this.runtime.abort(code, message);
  }

  // ───────────────────────── group, name, free (comm/lifecycle.ts) ─────────────────────────

  /** The communicator's group (MPI_Comm_group); for an intercommunicator, the local group. */
  group(): Group {
    return new Group(this.members, this.runtime.worldRank);
  }

  /** False here; true on an Intercomm (MPI_Comm_test_inter). */
  get isInter(): boolean {
    return false;
  }

  /** IDENT, CONGRUENT, SIMILAR or UNEQUAL (MPI_Comm_compare). */
  compare(other: CommCore): number {
    return compareComms(this, other);
  }

  /** Names the communicator, for traces and reports (MPI_Comm_set_name); at most MAX_OBJECT_NAME characters. */
  setName(name: string): void {
    setName(this, name);
  }

  /** 'MPI_COMM_WORLD' for the world, '' for a new communicator until setName() (MPI_Comm_get_name). */
  getName(): string {
    return getName(this, this.context === 0);
  }

  /**
   * Frees the communicator (MPI_Comm_free): every later call on it throws InvalidComm, while the
   * operations already posted on it complete as usual. Collective in MPI; here nothing is exchanged.
   */
  free(): void {
    freeComm(this, this.context === 0);
    freeScratch(this); // its collectives' kept scratch (collectives/scratch.ts)
  }

  // ───────────────────────── argument checks ─────────────────────────

  /**
   * @internal Where a receive into `spec` lands. A non-contiguous [buf, count, datatype] lands in a
   * staging buffer unpacked when the program sees the receive complete: hand the posted request
   * to `target.finish` (irecv and Message.irecv do).
   */
  targetOf(spec: BufferSpec, op: string): Exclude<Target, 'object'> {
    return receiveTarget(this, this.checkBuffer(spec, op));
  }

  /**
   * @internal The one check of a buffer argument, a TypedBuffer or [buf, count, datatype]: the
   * buffer is this rank's and alive, the datatype committed and of the buffer's element type, and
   * count elements fit in the buffer.
   */
  checkBuffer(spec: BufferSpec, op: string): BufferArg {
    return normalizeSpec(spec, op, (b, o) => this.checkTyped(b, o));
  }

  /** @internal A collective call's buffer arguments as TypedBuffers (datatype specs viewed or packed). */
  staging(op: string): CollectiveStaging {
    return new CollectiveStaging(this, (spec) => this.checkBuffer(spec as BufferSpec, op));
  }

  protected checkTyped(buf: TypedBuffer, op: string): TypedBuffer {
    if (!(buf instanceof TypedBuffer)) {
      const hint = ArrayBuffer.isView(buf)
        ? 'a plain TypedArray lives outside the simulated memory: copy it into comm.alloc(Type, n) with buf.set(array)'
        : 'for plain values use sendObject()/recvObject()';
      throw new InvalidType(`${op}(): expected a TypedBuffer from comm.alloc() or comm.wrap(), or [buf, count, datatype], got ${describe(buf)}; ${hint}`);
    }
    if (buf.memory !== this.runtime.memory) {
      throw new InvalidBuffer(`${op}(): the buffer belongs to another rank's memory; allocate it with this rank's comm.alloc()`);
    }
    if (buf.isFreed) throw new InvalidBuffer(`${op}(): the buffer at 0x${buf.addr.toString(16)} was freed; allocate a new one`);
    return buf;
  }

  protected checkDest(dest: number, op: string): void {
    if (dest === PROC_NULL) return;
    const n = this.route.size;
    if (!Number.isInteger(dest) || dest < 0 || dest >= n) throw new InvalidRank(`${op} destination`, dest, n, false);
  }

  protected checkSource(source: number, op: string): void {
    if (source === PROC_NULL || source === ANY_SOURCE) return;
    const n = this.route.size;
    if (!Number.isInteger(source) || source < 0 || source >= n) throw new InvalidRank(`${op} source`, source, n, true);
  }

  protected checkTag(tag: number, wildcard: boolean): void {
    if (wildcard && tag === ANY_TAG) return;
    if (!Number.isInteger(tag) || tag < 0 || tag > TAG_UB) throw new InvalidTag(tag, wildcard);
  }
}
