import type { Comm } from '../comm.js';
import { MpiError } from '../errors.js';
import type { Engine } from '../p2p/engine.js';
import type { ClockPort, RegistrationPort } from '../p2p/ports.js';
import { type AtomicKind, RmaTransport, WIN_ACCESS } from './transport.js';

/** The origin's scratch word for atomic results, in its control block (registered for local writes). */
export interface Scratch {
  lkey: number;
  addr: number;
}

/**
 * Reads, writes and 8-byte atomics on a target's memory that complete before returning: RDMA and
 * fabric atomics for another rank, the rank's own memory for itself (as MPI implementations do for
 * self-targets; Atomics on the frame keep a self atomic atomic against the adapter's).
 */
export class TargetAccess {
  readonly transport: RmaTransport;
  private readonly engine: Engine;

  /** Where an atomic's old value lands: set once the window's control block is registered. */
  scratch: Scratch = { lkey: 0, addr: 0 };

  constructor(private readonly comm: Comm) {
    this.engine = comm.runtime.engine;
    this.transport = new RmaTransport(this.engine);
  }

  /** The program clock (lock retries wait on it). */
  get clock(): ClockPort {
    return this.engine.env.clock;
  }

  isSelf(target: number): boolean {
    return target === this.comm.rank;
  }

  world(target: number): number {
    return this.comm.members[target]!;
  }

  /** [remote, +length) of `target` into local memory at `local`; complete on return. */
  read(target: number, local: number, remote: number, rkey: number, length: number, what: string): void {
    if (this.isSelf(target)) return this.selfCopy(local, remote, length);
    this.transport.rdma(this.world(target), 'read', local, length, remote, rkey, what);
    this.transport.flush(this.world(target));
  }

  /** Local [local, +length) into `target`'s memory at `remote`; complete on return. */
  write(target: number, local: number, remote: number, rkey: number, length: number, what: string): void {
    if (this.isSelf(target)) return this.selfCopy(remote, local, length);
    this.transport.rdma(this.world(target), 'write', local, length, remote, rkey, what);
    this.transport.flush(this.world(target));
  }

  /** One 8-byte atomic on `target`'s word at `remote`; returns the word's old value. */
  atomic(target: number, kind: AtomicKind, remote: number, rkey: number, compareAdd: bigint, swap: bigint, what: string): bigint {
    if (this.isSelf(target)) {
      this.engine.programCall();
      this.engine.chargeLocalCopy(8);
      const w = this.wordAt(remote);
      return kind === 'fetch-add'
        ? Atomics.add(w, 0, BigInt.asIntN(64, compareAdd))
        : Atomics.compareExchange(w, 0, BigInt.asIntN(64, compareAdd), BigInt.asIntN(64, swap));
    }
    this.transport.atomic(this.world(target), kind, this.scratch, remote, rkey, compareAdd, swap, what);
    this.transport.flush(this.world(target));
    return new DataView(this.comm.runtime.memory.read(this.scratch.addr, 8).buffer).getBigInt64(0, true);
  }

  /** A copy within this rank's own memory (a self-targeted put or get), charged as a local copy. */
  selfCopy(dst: number, src: number, length: number): void {
    this.engine.programCall();
    if (length > 0) this.comm.runtime.space.copy(dst, src, length);
    this.engine.chargeLocalCopy(length);
  }

  /** Registers [addr, +length) through the rank's cache as a program call: its cost reaches the program clock. */
  register(addr: number, length: number): RegistrationPort {
    this.engine.programCall();
    const { device, clock, cache } = this.engine.env;
    device.set(clock.now);
    const reg = cache.acquire(addr, length, WIN_ACCESS);
    clock.advanceTo(device.now);
    return reg;
  }

  /** Gives a registration back to the cache (a deregistration under pin-per-op), charged likewise. */
  release(reg: RegistrationPort): void {
    const { device, clock, cache } = this.engine.env;
    device.set(clock.now);
    cache.release(reg);
    clock.advanceTo(device.now);
  }

  /** A program call that posts nothing: runs what is due by the program clock first. */
  sync(): void {
    this.engine.programCall();
  }

  /** This rank's own 8-byte word at `addr` (a control-block counter other ranks' atomics write). */
  localWord(addr: number): BigInt64Array {
    return this.wordAt(addr);
  }

  /** This rank's 8-byte word at `addr` on its frame (resident: the control block and window memory are touched). */
  private wordAt(addr: number): BigInt64Array {
    const bytes = this.comm.runtime.memory.window(addr, 8);
    if (bytes === undefined || addr % 8 !== 0) throw new MpiError('MPI_ERR_INTERN', `no frame under the word at 0x${addr.toString(16)}`);
    return new BigInt64Array(bytes.buffer, bytes.byteOffset, 1);
  }
}
