import { readWatermark } from './queues/completion-queue.js';
import { PhysicalMemory, type AddressSpace } from '@tsmpi/vm';
import { backendFor, type MemoryBackend } from './backends/index.js';
import type { VirtualClock } from './clock.js';
import { hdr } from './cost/defaults.js';
import { costModel } from './cost/load.js';
import type { CostModel } from './cost/model.js';
import { InvalidArgument } from './errors.js';
import { ProtectionDomain } from './domain.js';
import { DOMAIN_OPEN, H_QP_CREATED } from './shared/layout.js';
import type { PortStats } from './shared/port.js';
import { AdapterState, type AdapterHandle } from './shared/state.js';
import { readStats } from './stats.js';
import type { AdapterKind, AdapterLimits, FabricStats, PinMode } from './types.js';
import { ADAPTER_KINDS, PIN_MODES } from './kinds.js';
import type { Wire } from './wire.js';

export interface CreateAdapterOptions {
  memory: PhysicalMemory;
  cost?: CostModel;
  nodeId?: number;
  pinMode?: PinMode;
  limits?: Partial<AdapterLimits>;
}

/**
 * One simulated node's network adapter. Created once (createAdapter), re-opened in every thread
 * from its handle (Adapter.attach); all its tables are shared memory.
 */
export class Adapter {
  readonly kind: AdapterKind;
  readonly nodeId: number;
  readonly cost: CostModel;
  readonly pinMode: PinMode;
  readonly memory: PhysicalMemory;
  readonly handle: AdapterHandle;
  /** @internal */
  readonly state: AdapterState;
  /** @internal how this adapter's regions are backed (pinning, mlock or ODP). */
  readonly backend: MemoryBackend;

  private constructor(state: AdapterState, memory: PhysicalMemory) {
    const h = state.handle;
    this.state = state;
    this.handle = h;
    this.kind = h.backend;
    this.nodeId = h.nodeId;
    this.cost = h.cost;
    this.pinMode = h.pinMode;
    this.memory = memory;
    this.backend = backendFor(h.backend, h.pinMode);
  }

  /** @internal use createAdapter */
  static create(kind: AdapterKind, opts: CreateAdapterOptions): Adapter {
    if (!ADAPTER_KINDS.includes(kind)) throw new InvalidArgument(`createAdapter: kind must be one of ${ADAPTER_KINDS.join(', ')}, got ${String(kind)}`);
    if (!(opts?.memory instanceof PhysicalMemory)) throw new InvalidArgument('createAdapter: opts.memory must be the node\'s PhysicalMemory');
    const nodeId = opts.nodeId ?? 0;
    if (!Number.isInteger(nodeId) || nodeId < 0) throw new InvalidArgument(`createAdapter: nodeId must be an integer >= 0, got ${nodeId}`);
    const pinMode = opts.pinMode ?? 'pin';
    if (!PIN_MODES.includes(pinMode)) throw new InvalidArgument(`createAdapter: pinMode must be one of ${PIN_MODES.join(', ')}, got ${String(pinMode)}`);
    const cost = costModel(opts.cost ?? hdr);
    return new Adapter(AdapterState.create(kind, nodeId, pinMode, cost, opts.limits), opts.memory);
  }

  /** Re-open an adapter in this thread. `memory` is the node's PhysicalMemory attached in this thread. */
  static attach(handle: AdapterHandle, memory: PhysicalMemory): Adapter {
    if (handle?.kind !== 'adapter') throw new InvalidArgument('Adapter.attach: not an adapter handle (pass adapter.handle)');
    if (!(memory instanceof PhysicalMemory)) throw new InvalidArgument('Adapter.attach: memory must be PhysicalMemory.attach(node memory handle)');
    return new Adapter(new AdapterState(handle, false), memory);
  }

  /**
   * A protection domain for the process `space` whose virtual time is `clock`. Call on the
   * process's (rank's) own thread. `wire` reaches other nodes; without it only this node's QPs connect.
   */
  openDomain(space: AddressSpace, clock: VirtualClock, opts: { wire?: Wire } = {}): ProtectionDomain {
    return ProtectionDomain.open(this, space, clock, opts.wire);
  }

  /** Counters summed over the domains open on this adapter now. */
  get stats(): FabricStats {
    const ids: number[] = [];
    const domains = this.state.header.subarray(this.state.domainAt);
    for (let d = 1; d <= this.state.limits.maxDomains; d++) if (Atomics.load(domains, d) === DOMAIN_OPEN) ids.push(d);
    return readStats(this.state.counters, ids);
  }

  /**
   * The HCA port in virtual time: for each direction, when its last reserved occupancy ends and
   * how many transfers reserved it, waited for it, filled a gap before a later reservation.
   */
  /**
   * The watermark of completion queue `cqId` of this adapter, from any thread that attached it: the
   * earliest virtual time among its completions not yet retired by the owner (Infinity: none).
   */
  completionWatermark(cqId: number): number {
    return readWatermark(this.state, cqId);
  }

  get portStats(): PortStats {
    return this.state.port.stats;
  }

  /** Queue pairs created on this adapter since it was (both ends of a connection made on demand count). */
  get queuePairsCreated(): number {
    return Atomics.load(this.state.header, H_QP_CREATED);
  }
}

/** One adapter per simulated node. `kind`: 'pinning' (dumb pinning) or 'odp' (on-demand paging). */
export function createAdapter(kind: AdapterKind, opts: CreateAdapterOptions): Adapter {
  return Adapter.create(kind, opts);
}
