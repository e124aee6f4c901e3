import type { AddressSpace, PhysicalMemory } from '@tsmpi/vm';
import type { VirtualClock } from '../clock.js';
import { hdr } from '../cost/defaults.js';
import type { CostModel } from '../cost/model.js';
import { IntranodeError, InvalidArgument } from '../errors.js';
import { lock, unlock } from '../shared/lock.js';
import { XpmemAttachCache, type AttachCacheOptions } from './attach-cache.js';
import { Cma } from './cma.js';
import { ProcessContext } from './context.js';
import { LOCK, NodeState, P_BELL, P_JOB, P_STATE, PROC_STRIDE, ProcState, type IntranodeHandle } from './node-state.js';
import { ShmRing, readRingMark, retireRingMark } from './shm-ring.js';
import { emptyIntranodeStats, type IntranodeLimits, type IntranodePeer, type IntranodeStats } from './types.js';
import { Xpmem } from './xpmem.js';

export interface CreateIntranodeOptions {
  memory: PhysicalMemory;
  /** default presets.hdr */
  cost?: CostModel;
  nodeId?: number;
  limits?: Partial<IntranodeLimits>;
}

/**
 * The intra-node transports of one node (one per node, like the adapter): the shared tables of
 * the shm rings and of the XPMEM driver. Create it once (main thread), hand `handle` to every
 * rank's worker, re-open it there with `Intranode.attach`, and `open` one endpoint per process.
 */
export class Intranode {
  readonly nodeId: number;
  readonly memory: PhysicalMemory;
  readonly cost: CostModel;
  readonly handle: IntranodeHandle & { cost: CostModel };
  /** @internal */
  readonly state: NodeState;

  private constructor(state: NodeState, memory: PhysicalMemory, cost: CostModel) {
    if (state.handle.pageSize !== memory.pageSize) {
      throw new InvalidArgument(`intranode: page size ${state.handle.pageSize} does not match the node memory's ${memory.pageSize}`);
    }
    this.state = state;
    this.memory = memory;
    this.cost = cost;
    this.nodeId = state.handle.nodeId;
    this.handle = { ...state.handle, cost };
  }

  /** Re-open a node's intra-node state in another thread. */
  static attach(handle: IntranodeHandle & { cost?: CostModel }, memory: PhysicalMemory): Intranode {
    if (handle?.kind !== 'intranode') throw new InvalidArgument('Intranode.attach: not an intranode handle');
    return new Intranode(new NodeState(handle, false), memory, handle.cost ?? hdr);
  }

  /**
   * Open the transports for one process: `pid` is its id on the node (0 .. maxProcesses-1, each
   * once), `job` who it may talk to (processes of other jobs get EPERM). Call it on the process's
   * own thread: its mmu notifier is subscribed here (XPMEM coherence).
   */
  open(space: AddressSpace, clock: VirtualClock, opts: { pid: number; job?: number }): IntranodeEndpoint {
    const node = this.state;
    const pid = opts.pid;
    const job = opts.job ?? 0;
    if (space.memory.handle.frames !== this.memory.handle.frames) {
      throw new InvalidArgument('intranode open: the address space lives on another node\'s memory');
    }
    if (!Number.isInteger(pid) || pid < 0 || pid >= node.limits.maxProcesses) {
      throw new InvalidArgument(`intranode open: pid must be an integer in 0..${node.limits.maxProcesses - 1}, got ${pid}`);
    }
    if (!Number.isInteger(job) || job < 0) throw new InvalidArgument(`intranode open: job must be a non-negative integer, got ${job}`);
    lock(node.header, LOCK);
    try {
      if (Atomics.load(node.procs, pid * PROC_STRIDE + P_STATE) === ProcState.OPEN) {
        throw new IntranodeError('EINVAL', 'intranode open', `pid ${pid} is already open on node ${this.nodeId}; give each process its own pid`);
      }
      Atomics.store(node.procs, pid * PROC_STRIDE + P_JOB, job);
      Atomics.store(node.procs, pid * PROC_STRIDE + P_STATE, ProcState.OPEN);
    } finally {
      unlock(node.header, LOCK);
    }
    const ctx = new ProcessContext({ node, memory: this.memory, space, clock, cost: this.cost, pid, job, stats: emptyIntranodeStats() });
    return new IntranodeEndpoint(ctx);
  }
}

/** Reads the watermark of the rings into any process of the node `handle` names, from any thread (see shm-ring.ts). */
export function shmWatermarkReader(handle: IntranodeHandle): (pid: number) => number {
  const marks = new Float64Array(handle.marks);
  return (pid) => marks[pid]!;
}

export function createIntranode(opts: CreateIntranodeOptions): Intranode {
  const state = NodeState.create(opts.nodeId ?? 0, opts.memory.pageSize, opts.limits ?? {});
  return Intranode.attach({ ...state.handle, cost: opts.cost ?? hdr }, opts.memory);
}

/**
 * One process's intra-node transports: `shmSend`/`shmRecv` (double copy through the per-pair ring),
 * `cma` (process_vm_readv/writev), `xpmem` (make/get/attach/detach) and `attachCache`.
 */
export class IntranodeEndpoint {
  readonly cma: Cma;
  readonly xpmem: Xpmem;
  private readonly ctx: ProcessContext;
  private readonly rings = new Map<number, ShmRing>();
  private cache: XpmemAttachCache | undefined;
  private readonly unsubscribe: () => void;
  private closed = false;

  /** @internal made by Intranode.open */
  constructor(ctx: ProcessContext) {
    this.ctx = ctx;
    this.cma = new Cma(ctx);
    this.xpmem = new Xpmem(ctx);
    const sub = this.xpmem.subscriber;
    this.unsubscribe = ctx.space.mmuNotifier.subscribe({
      invalidateRangeStart: (r) => sub.invalidateRangeStart(r),
      invalidateRangeEnd: (r) => sub.invalidateRangeEnd(r),
      release: () => {
        sub.release();
        Atomics.store(ctx.node.procs, ctx.pid * PROC_STRIDE + P_STATE, ProcState.EXITED);
      },
    });
  }

  /** This process as peers see it: hand it to them out of band. */
  get address(): IntranodePeer {
    const c = this.ctx;
    return { kind: 'intranode-peer', nodeId: c.nodeId, pid: c.pid, job: c.job, space: c.space.handle };
  }

  get pid(): number {
    return this.ctx.pid;
  }

  /** The attachment cache (created on first use with `opts`). */
  attachCache(opts?: AttachCacheOptions): XpmemAttachCache {
    this.cache ??= new XpmemAttachCache(this.ctx, this.xpmem, opts);
    return this.cache;
  }

  /**
   * shm, sender side: copy in up to `length` bytes from [addr, addr + length) into the ring to
   * `peer`, chunk by chunk while slots are free; returns the bytes taken (call again with the rest
   * once the receiver made room). `messageBytes` (default `length`) is the whole message's size,
   * which prices the copies.
   */
  shmSend(peer: IntranodePeer, addr: number, length: number, messageBytes = length): number {
    this.checkPeer(peer, 'shm send');
    const n = this.ring(this.ctx.pid, peer.pid).push(this.ctx.space, addr, length, this.ctx.clock, this.ctx.cost, messageBytes, this.ctx.stats);
    if (n > 0 && n === length) this.ctx.stats.shmSends++;
    return n;
  }

  /** shm, receiver side: copy out whole chunks from `peer`'s ring into [addr, addr + length); returns the bytes read. */
  shmRecv(peer: IntranodePeer, addr: number, length: number, messageBytes = length): number {
    this.checkPeer(peer, 'shm receive');
    const n = this.ring(peer.pid, this.ctx.pid).pop(this.ctx.space, addr, length, this.ctx.clock, this.ctx.cost, messageBytes, this.ctx.stats);
    if (n > 0 && n === length) this.ctx.stats.shmRecvs++;
    return n;
  }

  /** shmSend from bytes this process holds outside its address space (a header, a serialised object). */
  shmSendBytes(peer: IntranodePeer, data: Uint8Array, messageBytes = data.length): number {
    this.checkPeer(peer, 'shm send');
    const c = this.ctx;
    const n = this.ring(c.pid, peer.pid).pushFrom((pos, len, into, at) => into.set(data.subarray(pos, pos + len), at), data.length, c.clock, c.cost, messageBytes, c.stats);
    if (n > 0 && n === data.length) c.stats.shmSends++;
    return n;
  }

  /** shmRecv into a new Uint8Array (whole chunks, at most `maxBytes`); empty when nothing is there. */
  shmRecvBytes(peer: IntranodePeer, maxBytes: number, messageBytes = maxBytes): Uint8Array {
    const out = new Uint8Array(maxBytes);
    return out.subarray(0, this.shmRecvTo(peer, out, messageBytes));
  }

  /** shmRecv into bytes this process holds outside its address space, from `out`'s start (whole chunks, at most its length). */
  shmRecvTo(peer: IntranodePeer, out: Uint8Array, messageBytes = out.length): number {
    this.checkPeer(peer, 'shm receive');
    const c = this.ctx;
    const n = this.ring(peer.pid, c.pid).popInto((pos, data) => out.set(data, pos), out.length, c.clock, c.cost, messageBytes, c.stats);
    if (n > 0 && n === out.length) c.stats.shmRecvs++;
    return n;
  }

  /** This process's doorbell: changes whenever a peer pushed into our ring or emptied a slot of ours. */
  get doorbell(): number {
    return Atomics.load(this.ctx.node.procs, this.ctx.pid * PROC_STRIDE + P_BELL);
  }

  /** Sleep until the doorbell differs from `seen` (read it before checking for work) or `timeoutMs` passes; false on timeout. */
  waitDoorbell(seen: number, timeoutMs: number): boolean {
    return Atomics.wait(this.ctx.node.procs, this.ctx.pid * PROC_STRIDE + P_BELL, seen, timeoutMs) !== 'timed-out';
  }

  /**
   * The watermark of the rings into this process: the earliest READY (virtual µs) among the chunks
   * pushed to it and not yet retired (Infinity: none). Exact virtual time reads it as the completion
   * queue's (see shm-ring.ts).
   */
  get shmWatermark(): number {
    return readRingMark(this.ctx.node, this.ctx.pid);
  }

  /** Raise shmWatermark to what is still in the rings: only after what was popped is accounted for elsewhere. */
  shmRetire(): void {
    if (this.shmWatermark !== Infinity) retireRingMark(this.ctx.node, this.ctx.pid);
  }

  /** Chunks `peer` wrote to us and we have not read. */
  shmPending(peer: IntranodePeer): number {
    return this.ring(peer.pid, this.ctx.pid).pending;
  }

  get stats(): IntranodeStats {
    return { ...this.ctx.stats };
  }

  /** Detach everything, stop listening to the notifier. Exported segments stay until the process exits or removes them. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cache?.flush();
    this.unsubscribe();
  }

  private ring(from: number, to: number): ShmRing {
    const key = from * this.ctx.node.limits.maxProcesses + to;
    let r = this.rings.get(key);
    if (r === undefined) {
      r = new ShmRing(this.ctx.node, from, to);
      this.rings.set(key, r);
    }
    return r;
  }

  private checkPeer(peer: IntranodePeer, call: string): void {
    // the same checks the kernel makes before it touches another process (ESRCH, EPERM)
    this.ctx.peerSpace(peer, call);
  }
}
