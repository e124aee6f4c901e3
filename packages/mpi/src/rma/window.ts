import type { ReduceOp } from '../collectives/index.js';
import type { Comm } from '../comm.js';
import { InvalidArgument, InvalidType } from '../errors.js';
import type { RegistrationPort } from '../p2p/ports.js';
import type { TypedArray, TypedBuffer } from '../typed-buffer.js';
import { accumulateAt } from './accumulate.js';
import { CompareSwapOp } from './ops.js';
import { decodeInfo, encodeInfo, locate, type ExposedRegion, type TargetInfo } from './directory.js';
import { RmaAttachError, RmaSyncError } from './errors.js';
import { CONTROL_BYTES, LOCK_OFFSET, SCRATCH_OFFSET, lockWord, unlockWord, type LockType } from './lock-word.js';
import { COMPLETES_OFFSET, POSTS_OFFSET, awaitCount, notify } from './pscw.js';
import { TargetAccess } from './target-access.js';

export type WindowKind = 'create' | 'allocate' | 'dynamic';

/**
 * An MPI window (chapter 11 of MPI-3.1, unified memory model): memory of every rank of a
 * communicator that the others read and write directly through its registration. Created
 * collectively (comm.winCreate / winAllocate / winCreateDynamic); every access needs an epoch —
 * between two fences, or inside lock/unlock (lockAll/unlockAll) of its target. put and get are RDMA
 * writes and reads that complete at the next fence, flush or unlock; accumulates, fetchAndOp and
 * compareAndSwap complete before they return.
 */
export class Win<T extends TypedArray = TypedArray> {
  /** The window's memory on this rank (winAllocate and winCreate); undefined for a dynamic window. */
  readonly buffer: TypedBuffer<T> | undefined;
  private infos: TargetInfo[];
  private readonly access: TargetAccess;
  private fenceOpen = false;
  private allLocked = false;
  private readonly locks = new Map<number, LockType>();
  /** This rank's registrations: the control block, and the window's memory (or each attached region). */
  private readonly ctlReg: RegistrationPort;
  private readonly ctl: number;
  private readonly attached = new Map<number, { length: number; reg: RegistrationPort }>();
  /** post/start/complete/wait: the origins this rank exposed its window to, the targets it started on. */
  private exposedTo: number[] | undefined;
  private startedTo: Set<number> | undefined;
  private scratchAddr = 0;
  private scratchBytes = 0;
  private freed = false;

  /** @internal use comm.winCreate / winAllocate / winCreateDynamic */
  constructor(readonly comm: Comm, readonly kind: WindowKind, buffer: TypedBuffer<T> | undefined, private readonly ownsBuffer: boolean) {
    this.buffer = buffer;
    const ctl = (this.ctl = comm.runtime.heap.malloc(CONTROL_BYTES));
    comm.space.fill(ctl, CONTROL_BYTES, 0);
    this.access = new TargetAccess(comm);
    this.ctlReg = this.access.register(ctl, CONTROL_BYTES);
    this.access.scratch = { lkey: this.ctlReg.handle.lkey, addr: ctl + SCRATCH_OFFSET };
    if (buffer !== undefined && buffer.byteLength > 0) {
      this.attached.set(buffer.addr, { length: buffer.byteLength, reg: this.access.register(buffer.addr, buffer.byteLength) });
    }
    this.infos = this.exchange();
  }

  /** Every rank's info, learned by all (collective). */
  private exchange(): TargetInfo[] {
    return this.comm.allgatherObject(encodeInfo(this.myInfo())).map(decodeInfo);
  }

  private myInfo(): TargetInfo {
    const regions: ExposedRegion[] = [...this.attached].map(([addr, a]) => ({ addr, length: a.length, rkey: a.reg.handle.rkey }));
    const b = this.buffer;
    return {
      base: b?.addr ?? 0, size: b?.byteLength ?? 0, dispUnit: b?.type.BYTES_PER_ELEMENT ?? 1, regions,
      ctlAddr: this.ctl, ctlRkey: this.ctlReg.handle.rkey,
    };
  }

  // ───────────── dynamic windows ─────────────

  /** Exposes `buf` in a dynamic window (registered through the cache); origins learn it at the next fence. */
  attach(buf: TypedBuffer): void {
    this.live('attach');
    if (this.kind !== 'dynamic') throw new RmaAttachError('attach() needs a window from comm.winCreateDynamic()');
    if (this.attached.has(buf.addr)) throw new RmaAttachError(`a region at 0x${buf.addr.toString(16)} is already attached: detach it first`);
    if (buf.byteLength === 0) return;
    this.attached.set(buf.addr, { length: buf.byteLength, reg: this.access.register(buf.addr, buf.byteLength) });
  }

  /** Withdraws `buf` (its registration goes back to the cache); accesses to it after the next fence are errors. */
  detach(buf: TypedBuffer): void {
    this.live('detach');
    const a = this.attached.get(buf.addr);
    if (this.kind !== 'dynamic' || a === undefined) throw new RmaAttachError(`nothing is attached at 0x${buf.addr.toString(16)}`);
    this.attached.delete(buf.addr);
    this.access.release(a.reg);
  }

  // ───────────── data movement ─────────────

  /** origin → target's window at `targetDisp` (elements of the target's disp unit; an address for a dynamic window). */
  put(origin: TypedBuffer, target: number, targetDisp = 0): void {
    const w = this.where(origin.byteLength, target, targetDisp, 'put');
    if (origin.byteLength === 0) return;
    if (this.access.isSelf(target)) return this.access.selfCopy(w.addr, origin.addr, origin.byteLength);
    this.access.transport.rdma(this.access.world(target), 'write', origin.addr, origin.byteLength, w.addr, w.rkey, 'put');
  }

  /** target's window at `targetDisp` → origin. */
  get(origin: TypedBuffer, target: number, targetDisp = 0): void {
    const w = this.where(origin.byteLength, target, targetDisp, 'get');
    if (origin.byteLength === 0) return;
    if (this.access.isSelf(target)) return this.access.selfCopy(origin.addr, w.addr, origin.byteLength);
    this.access.transport.rdma(this.access.world(target), 'read', origin.addr, origin.byteLength, w.addr, w.rkey, 'get');
  }

  /** target ← op(target, origin), element by element, each element atomic (MPI_Accumulate). */
  accumulate(origin: TypedBuffer, target: number, targetDisp: number, op: ReduceOp): void {
    this.acc(origin, origin.toArray(), target, targetDisp, op, 'accumulate');
  }

  /** result ← target; target ← op(target, origin) (MPI_Get_accumulate). */
  getAccumulate(origin: TypedBuffer, result: TypedBuffer, target: number, targetDisp: number, op: ReduceOp): void {
    if (result.type !== origin.type || result.count < origin.count) {
      throw new InvalidArgument('result', `getAccumulate needs a result of the origin's type with at least ${origin.count} elements`);
    }
    result.set(this.acc(origin, origin.toArray(), target, targetDisp, op, 'getAccumulate'));
  }

  /** One element: result ← target; target ← op(target, origin) (MPI_Fetch_and_op). */
  fetchAndOp(origin: TypedBuffer, result: TypedBuffer, target: number, targetDisp: number, op: ReduceOp): void {
    this.getAccumulate(origin.subarray(0, 1), result.subarray(0, 1), target, targetDisp, op);
  }

  /** One element: result ← target; target ← origin if target equals compare (MPI_Compare_and_swap). */
  compareAndSwap(origin: TypedBuffer, compare: TypedBuffer, result: TypedBuffer, target: number, targetDisp: number): void {
    if (compare.type !== origin.type || result.type !== origin.type) throw new InvalidType('compareAndSwap: origin, compare and result must have one element type');
    const swap = new CompareSwapOp(compare.toArray()[0]!);
    result.set(this.acc(origin.subarray(0, 1), origin.toArray().subarray(0, 1), target, targetDisp, swap, 'compareAndSwap'));
  }

  private acc(origin: TypedBuffer, values: TypedArray, target: number, targetDisp: number, op: ReduceOp, what: string): TypedArray {
    const w = this.where(origin.byteLength, target, targetDisp, what);
    const info = this.infos[target]!;
    return accumulateAt(this.comm, this.access, { target, info, addr: w.addr, rkey: w.rkey, type: origin.type, count: origin.count },
      values, op, () => this.scratch(origin.byteLength));
  }

  /** A registered-on-use buffer of this rank for an accumulate's read-modify-write, kept for the window's life. */
  private scratch(bytes: number): number {
    if (bytes > this.scratchBytes) {
      if (this.scratchAddr !== 0) this.comm.heap.free(this.scratchAddr);
      this.scratchAddr = this.comm.heap.malloc(Math.max(bytes, 64));
      this.scratchBytes = Math.max(bytes, 64);
    }
    return this.scratchAddr;
  }

  private where(bytes: number, target: number, disp: number, what: string): { addr: number; rkey: number } {
    this.live(what);
    if (!Number.isInteger(target) || target < 0 || target >= this.comm.size) {
      throw new InvalidArgument('target', `${what}: rank ${String(target)} is not in this window's group of ${this.comm.size}`);
    }
    if (!this.fenceOpen && !this.allLocked && !this.locks.has(target) && !this.startedTo?.has(target)) {
      throw new RmaSyncError(`${what} to rank ${target} outside an access epoch: call win.fence() or win.start([...]) first (active target), or win.lock(${target}) / win.lockAll() (passive target)`);
    }
    return locate(this.infos[target]!, this.kind === 'dynamic', target, disp, bytes);
  }

  // ───────────── synchronisation ─────────────

  /** Completes every access of this rank and waits for every rank's (collective); opens the next epoch. */
  fence(): void {
    this.live('fence');
    // an access that failed is raised after the collective part, so the other ranks are not left waiting
    let failure: unknown;
    try {
      this.access.transport.flush();
    } catch (e) {
      failure = e;
    }
    // dynamic windows: origins learn what each target has attached since (the fence is collective anyway)
    if (this.kind === 'dynamic') this.infos = this.exchange();
    else this.comm.barrier();
    this.fenceOpen = true;
    if (failure !== undefined) throw failure;
  }

  /** Exposes this rank's window to `group` (MPI_Win_post): each of its origins learns by a remote atomic. */
  post(group: readonly number[]): void {
    this.live('post');
    this.checkGroup(group, 'post');
    if (this.exposedTo !== undefined) throw new RmaSyncError('post() while an exposure epoch is open: wait() first');
    notify(this.access, this.infos, group, POSTS_OFFSET, 'post');
    this.exposedTo = [...group];
  }

  /** Opens an access epoch to `group` (MPI_Win_start): waits until every rank of it has posted. */
  start(group: readonly number[]): void {
    this.live('start');
    this.checkGroup(group, 'start');
    if (this.startedTo !== undefined) throw new RmaSyncError('start() while an access epoch is open: complete() first');
    awaitCount(this.access, this.ctl, POSTS_OFFSET, group.length, 'start');
    this.startedTo = new Set(group);
  }

  /** Ends the access epoch (MPI_Win_complete): completes every access, then tells each target. */
  complete(): void {
    this.live('complete');
    const group = this.startedTo;
    if (group === undefined) throw new RmaSyncError('complete() without start()');
    this.startedTo = undefined;
    try {
      this.access.transport.flush();
    } finally {
      notify(this.access, this.infos, [...group], COMPLETES_OFFSET, 'complete');
    }
  }

  /** Ends the exposure epoch (MPI_Win_wait): returns once every origin of the post's group has completed. */
  wait(): void {
    this.live('wait');
    const group = this.exposedTo;
    if (group === undefined) throw new RmaSyncError('wait() without post()');
    this.exposedTo = undefined;
    awaitCount(this.access, this.ctl, COMPLETES_OFFSET, group.length, 'wait');
  }

  private checkGroup(group: readonly number[], what: string): void {
    if (!Array.isArray(group) || group.some((r) => !Number.isInteger(r) || r < 0 || r >= this.comm.size) || new Set(group).size !== group.length) {
      throw new InvalidArgument('group', `${what}: give distinct ranks of this window's group of ${this.comm.size}`);
    }
  }

  /** Starts a passive-target epoch on `target` (MPI_Win_lock): an exclusive or shared lock on its lock word. */
  lock(target: number, type: LockType = 'exclusive'): void {
    this.live('lock');
    if (type !== 'exclusive' && type !== 'shared') throw new InvalidArgument('type', `lock type must be 'exclusive' or 'shared', got ${String(type)}`);
    if (this.locks.has(target) || this.allLocked) throw new RmaSyncError(`rank ${target} is already locked by this origin: unlock it first`);
    this.checkTarget(target, 'lock');
    lockWord(this.access, target, this.lockOf(target), type);
    this.locks.set(target, type);
  }

  /** Completes the accesses to `target` and releases its lock (MPI_Win_unlock). */
  unlock(target: number): void {
    this.live('unlock');
    const type = this.locks.get(target);
    if (type === undefined) throw new RmaSyncError(`unlock(${target}) without lock(${target})`);
    try {
      this.access.transport.flush(this.access.world(target));
    } finally {
      this.locks.delete(target);
      unlockWord(this.access, target, this.lockOf(target), type);
    }
  }

  /** A shared lock on every rank (MPI_Win_lock_all). */
  lockAll(): void {
    this.live('lockAll');
    if (this.allLocked || this.locks.size > 0) throw new RmaSyncError('lockAll() while holding locks: unlock them first');
    for (let t = 0; t < this.comm.size; t++) lockWord(this.access, t, this.lockOf(t), 'shared');
    this.allLocked = true;
  }

  unlockAll(): void {
    this.live('unlockAll');
    if (!this.allLocked) throw new RmaSyncError('unlockAll() without lockAll()');
    try {
      this.access.transport.flush();
    } finally {
      this.allLocked = false;
      for (let t = 0; t < this.comm.size; t++) unlockWord(this.access, t, this.lockOf(t), 'shared');
    }
  }

  /** Completes this rank's accesses to `target` at the target (MPI_Win_flush). */
  flush(target: number): void {
    this.live('flush');
    this.checkTarget(target, 'flush');
    this.access.transport.flush(this.access.world(target));
  }

  flushAll(): void {
    this.live('flushAll');
    this.access.transport.flush();
  }

  /** Collective: completes everything, then releases the registrations and memory (MPI_Win_free). */
  free(): void {
    this.live('free');
    if (this.locks.size > 0 || this.allLocked) throw new RmaSyncError('free() while holding locks: unlock first');
    if (this.exposedTo !== undefined || this.startedTo !== undefined) throw new RmaSyncError('free() inside post/start: call wait() / complete() first');
    this.access.transport.flush();
    this.comm.barrier();
    this.freed = true;
    for (const a of this.attached.values()) this.access.release(a.reg);
    this.attached.clear();
    this.access.release(this.ctlReg);
    this.comm.heap.free(this.ctl);
    if (this.scratchAddr !== 0) this.comm.heap.free(this.scratchAddr);
    if (this.ownsBuffer) this.buffer?.free();
  }

  private lockOf(target: number): { addr: number; rkey: number } {
    const i = this.infos[target]!;
    return { addr: i.ctlAddr + LOCK_OFFSET, rkey: i.ctlRkey };
  }

  private checkTarget(target: number, what: string): void {
    if (!Number.isInteger(target) || target < 0 || target >= this.comm.size) {
      throw new InvalidArgument('target', `${what}: rank ${String(target)} is not in this window's group of ${this.comm.size}`);
    }
  }

  private live(what: string): void {
    if (this.freed) throw new RmaSyncError(`${what} on a freed window`);
  }
}
