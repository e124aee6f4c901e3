import type { AddressSpace, Allocator } from '@tsmpi/vm';
import { ANY_SOURCE, ANY_TAG, PROC_NULL } from '../constants.js';
import { InvalidArgument, InvalidBuffer, InvalidRank, InvalidTag, InvalidType, TAG_UB } from '../errors.js';
import type { Route, Target } from '../p2p/operations.js';
import type { RankRuntimeFace } from '../rank/runtime-face.js';
import type { RankStats } from '../stats.js';
import { TypedBuffer, describe, isTypedArrayCtor, type TypedArray, type TypedArrayCtor } from '../typed-buffer.js';

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
  /** @internal world rank of each rank of this communicator */ readonly group: readonly number[];
  /** @internal even for user communicators; the twin has context + 1 */ readonly context: number;
  /** @internal */ readonly route: Route;

  /** @internal created by init(), dup() and split() */
  constructor(runtime: RankRuntimeFace, group: readonly number[], context: number) {
    this.runtime = runtime;
    this.group = group;
    this.context = context;
    this.size = group.length;
    this.rank = group.indexOf(runtime.worldRank);
    const g = group;
    this.route = { context, rank: this.rank, size: this.size, world: (r: number) => g[r]! };
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

  // ───────────────────────── argument checks ─────────────────────────

  /** @internal */
  targetOf(buf: TypedBuffer, op: string): Target {
    const b = this.checkBuffer(buf, op);
    return { addr: b.addr, capacity: b.byteLength, elementSize: b.type.BYTES_PER_ELEMENT };
  }

  protected checkBuffer(buf: TypedBuffer, op: string): TypedBuffer {
    if (!(buf instanceof TypedBuffer)) {
      const hint = ArrayBuffer.isView(buf)
        ? 'a plain TypedArray lives outside the simulated memory: copy it into comm.alloc(Type, n) with buf.set(array)'
        : 'for plain values use sendObject()/recvObject()';
      throw new InvalidType(`${op}(): expected a TypedBuffer from comm.alloc() or comm.wrap(), got ${describe(buf)}; ${hint}`);
    }
    if (buf.memory !== this.runtime.memory) {
      throw new InvalidBuffer(`${op}(): the buffer belongs to another rank's memory; allocate it with this rank's comm.alloc()`);
    }
    if (buf.isFreed) throw new InvalidBuffer(`${op}(): the buffer at 0x${buf.addr.toString(16)} was freed; allocate a new one`);
    return buf;
  }

  protected checkDest(dest: number, op: string): void {
    if (dest === PROC_NULL) return;
    if (!Number.isInteger(dest) || dest < 0 || dest >= this.size) throw new InvalidRank(`${op} destination`, dest, this.size, false);
  }

  protected checkSource(source: number, op: string): void {
    if (source === PROC_NULL || source === ANY_SOURCE) return;
    if (!Number.isInteger(source) || source < 0 || source >= this.size) throw new InvalidRank(`${op} source`, source, this.size, true);
  }

  protected checkTag(tag: number, wildcard: boolean): void {
    if (wildcard && tag === ANY_TAG) return;
    if (!Number.isInteger(tag) || tag < 0 || tag > TAG_UB) throw new InvalidTag(tag, wildcard);
  }
}
