import { Access, statusName, type AtomicWorkRequest, type RdmaWorkRequest } from '@tsmpi/fabric';
import { TransferError } from '../errors.js';
import type { Engine } from '../p2p/engine.js';
import { WaitKind, idleUntil, type QpPort, type RegistrationPort } from '../p2p/ports.js';

/** Window memory and origin buffers: one registration serves puts, gets and atomics. */
export const WIN_ACCESS = Access.LOCAL_WRITE | Access.REMOTE_WRITE | Access.REMOTE_READ | Access.REMOTE_ATOMIC;

/** The queue pair's one-sided verbs (@tsmpi/fabric's QueuePair). */
interface OneSidedQp extends QpPort {
  rdmaWrite(wr: RdmaWorkRequest): void;
  atomicFetchAdd(wr: AtomicWorkRequest): void;
  atomicCompareSwap(wr: AtomicWorkRequest): void;
}

export type RdmaKind = 'write' | 'read';
export type AtomicKind = 'fetch-add' | 'compare-swap';

/**
 * The origin's side of one window: posts RDMA writes, reads and atomics through the engine (each
 * at its virtual time, in the scheduler's order), counts what is in flight per target, and keeps
 * the first failure to raise at the next synchronisation: an error completion is never lost.
 */
export class RmaTransport {
  private readonly inFlight = new Map<number, number>();
  private total = 0;
  /** The latest completion time seen per target: a flush ends no earlier. */
  private readonly doneAt = new Map<number, number>();
  private failure: Error | undefined;

  constructor(private readonly engine: Engine) {}

  /** RDMA write or read of [local, +length) to or from (remote, rkey) at world rank `world`. */
  rdma(world: number, kind: RdmaKind, local: number, length: number, remote: number, rkey: number, what: string): void {
    const { cache } = this.engine.env;
    let reg: RegistrationPort | undefined;
    this.post(world, () => {
      reg = cache.acquire(local, length, WIN_ACCESS);
      const wr = { wrId: 0, sge: { lkey: reg.handle.lkey, addr: local, length }, remoteAddr: remote, rkey };
      return (qp, wrId) => (kind === 'write' ? (qp as OneSidedQp).rdmaWrite({ ...wr, wrId }) : qp.rdmaRead({ ...wr, wrId }));
    }, what, () => reg && cache.release(reg));
  }

  /** An 8-byte atomic whose old value lands at `result` (registered by the caller, 8 bytes). */
  atomic(world: number, kind: AtomicKind, result: { lkey: number; addr: number }, remote: number, rkey: number,
    compareAdd: bigint, swap: bigint, what: string): void {
    this.post(world, () => (qp, wrId) => {
      const wr = { wrId, sge: { lkey: result.lkey, addr: result.addr, length: 8 }, remoteAddr: remote, rkey, compareAdd, swap };
      if (kind === 'fetch-add') (qp as OneSidedQp).atomicFetchAdd(wr);
      else (qp as OneSidedQp).atomicCompareSwap(wr);
    }, what, () => {});
  }

  private post(world: number, prepare: () => (qp: QpPort, wrId: number) => void, what: string, after: () => void): void {
    this.inFlight.set(world, (this.inFlight.get(world) ?? 0) + 1);
    this.total++;
    this.engine.postOneSided(world, prepare, (status, time) => {
      after();
      this.inFlight.set(world, this.inFlight.get(world)! - 1);
      this.total--;
      this.doneAt.set(world, Math.max(this.doneAt.get(world) ?? 0, time));
      if (status !== 0 && this.failure === undefined) {
        this.failure = new TransferError(
          statusName(status),
          `${what} at rank ${world} completed with ${statusName(status)}: the target's registration no longer covers the ` +
            'window memory (detached or freed?) or the access is not permitted',
        );
      }
    });
  }

  /** Operations to `world` (every target: undefined) in flight. */
  pending(world?: number): number {
    return world === undefined ? this.total : (this.inFlight.get(world) ?? 0);
  }

  /** Waits until everything to `world` (or to every target) has completed; raises the first failure. */
  flush(world?: number): void {
    this.engine.programCall();
    if (this.pending(world) > 0) {
      this.engine.waitUntil(() => this.pending(world) === 0, { kind: WaitKind.REQUEST, peer: world ?? -1, tag: -1, context: 0 });
    }
    const done = world === undefined ? Math.max(0, ...this.doneAt.values()) : (this.doneAt.get(world) ?? 0);
    idleUntil(this.engine.env.clock, done);
    const f = this.failure;
    if (f !== undefined) {
      this.failure = undefined;
      throw f;
    }
  }
}
