import { availableParallelism } from 'node:os';
import type { MessagePort } from 'node:worker_threads';
import { parseRndv } from '../options.js';
import { parseNoncontig } from '../p2p/noncontig.js';
import { Horizon } from '../timing/horizon.js';
import { nodeOfRank } from '../launcher/placement.js';
import { AddressSpace, Allocator, PhysicalMemory } from '@tsmpi/vm';
import { Access, Adapter, InProcessWire, NetworkWire, VirtualClock, latencyUs, type ListenAddress, type MemoryRegion, type QpAddress } from '@tsmpi/fabric';
import { createRegistrationPolicy } from '@tsmpi/rcache';
import { Comm } from '../comm.js';
import { emptyCollectiveStats, useCollectiveStats, type CollectiveStats } from '../collectives/stats.js';
import { useCollectiveTuning } from '../collectives/tuning.js';
import { JobAborted, MemlockExhausted } from '../errors.js';
import { ControlBlock } from '../launcher/control-block.js';
import type { LauncherToRank, RankToLauncher } from '../launcher/messages.js';
import { BouncePool } from '../p2p/bounce.js';
import { Engine, type DeviceClock } from '../p2p/engine.js';
import { SPINS_DEDICATED, SPINS_OVERSUBSCRIBED } from '../p2p/waiter.js';
import { ENVELOPE_BYTES } from '../p2p/envelope.js';
import { emptyMessageCounters, numericLeaves, type MessageCounters, type RankStats } from '../stats.js';
import type { BufferMemory } from '../typed-buffer.js';
import type { RankRuntimeFace } from './runtime-face.js';
import type { RankWorkerData } from './worker-data.js';
import { openIntra, ringLookahead, ringWatermarks, type IntraSetup } from './intra-setup.js';
import { RankConnections } from './connections.js';
import { ComputeBoundary, ProgramClock, parseCompute } from '../compute.js';
import { installComputeBoundary } from './compute-setup.js';
import { installTracing } from '../trace/install.js';
import { RegistrationFaults, injects, parseInject } from '../inject.js';
import type { TimedFaults } from '../inject-timed.js';
import { injectTimedFaults } from './inject-setup.js';

/** The JobAborted errors a rank throws after calling abort() itself (it already told the launcher). */
const selfAborts = new WeakSet<Error>();

export function isSelfAbort(e: Error): boolean {
  return selfAborts.has(e);
}

/**
 * Everything one rank owns: its address space and heap on its node's physical memory, its program
 * clock, its protection domain (with a device clock the engine positions per operation), its
 * registration policy, its queue pairs (made on first use), bounce buffers and the message engine.
 */
export class RankRuntime implements RankRuntimeFace {
  readonly worldRank: number;
  readonly worldSize: number;
  readonly node: number;
  readonly engine: Engine;
  readonly memory: BufferMemory;
  readonly space: AddressSpace;
  readonly heap: Allocator;
  readonly clock: ProgramClock;
  readonly world: Comm;
  nextContext = 2;
  result: unknown = undefined;
  private readonly counters: MessageCounters;
  private readonly pd: ReturnType<Adapter['openDomain']>;
  private readonly cache: ReturnType<typeof createRegistrationPolicy<MemoryRegion>>;
  private readonly port: MessagePort;
  private readonly ctrl: ControlBlock;
  private readonly intra: IntraSetup | undefined;
  /** --inject: what was injected into this rank (RankStats.faults). */
  private readonly faults: TimedFaults | undefined;
  /** This rank's collective counters (its switch points come from JobOptions.collectiveTuning). */
  private readonly collectiveCounters: CollectiveStats = emptyCollectiveStats();

  private constructor(parts: {
    wd: RankWorkerData; port: MessagePort; ctrl: ControlBlock; space: AddressSpace; heap: Allocator; clock: ProgramClock;
    pd: ReturnType<Adapter['openDomain']>; cache: ReturnType<typeof createRegistrationPolicy<MemoryRegion>>; engine: Engine;
    counters: MessageCounters; intra?: IntraSetup; faults?: TimedFaults;
  }) {
    this.faults = parts.faults;
    this.intra = parts.intra;
    this.worldRank = parts.wd.rank;
    this.worldSize = parts.wd.size;
    this.node = parts.wd.node;
    this.port = parts.port;
    this.ctrl = parts.ctrl;
    this.space = parts.space;
    this.heap = parts.heap;
    this.clock = parts.clock;
    this.pd = parts.pd;
    this.cache = parts.cache;
    this.engine = parts.engine;
    this.counters = parts.counters;
    // the collective algorithms read this rank's switch points and count into its counters
    useCollectiveTuning({ ...parts.wd.options.collectiveTuning });
    useCollectiveStats(this.collectiveCounters);
    const space = parts.space;
    const heap = parts.heap;
    this.memory = {
      read: (addr, length) => space.read(addr, length),
      write: (addr, data) => space.write(addr, data),
      free: (addr) => heap.free(addr),
      window: (addr, length) => {
        const v = space.view(addr, length, 'write');
        return v.contiguous ? v.bytes : undefined;
      },
    };
    const group = Array.from({ length: this.worldSize }, (_, i) => i);
    this.world = new Comm(this, group, 0);
  }

  /** Builds the rank and learns how to reach every peer (through the launcher, once, at start-up). */
  static async create(wd: RankWorkerData, port: MessagePort, ctrl: ControlBlock, trace: (what: string) => void = () => {}): Promise<RankRuntime> {
    const cost = wd.cost;
    const memories = wd.nodes.map((n) => n && PhysicalMemory.attach(n.memory));
    const adapters = wd.nodes.map((n, i) => n && Adapter.attach(n.adapter, memories[i]!));
    const memory = memories[wd.node]!;
    const adapter = adapters[wd.node]!;
    const space = new AddressSpace(memory, { memlockLimit: wd.options.memlock });
    const heap = new Allocator(space);
    const clock = new ProgramClock(new VirtualClock());
    const deviceClockCore = new VirtualClock();
    const pd = adapter.openDomain(space, deviceClockCore, { wire: wd.network ? NetworkWire.attach(wd.network, adapter, { origin: wd.rank }) : new InProcessWire(adapters.filter((a) => a !== undefined)) });
    const device = deviceClock(deviceClockCore);
    // --fork-safe (ibv_fork_init): what the adapter reads is left out of a fork's child, as rdma-core
    // does on registration (it also undoes it, range-counted, on deregistration; here it stays)
    const forkSafe = (addr: number, length: number): void => {
      if (wd.options.forkSafe) space.madvise(addr, length, 'dontfork');
    };
    // --inject: seeded failures of user-buffer registrations (the bounce slab below is registered directly)
    const spec = parseInject(wd.options.inject);
    const faults = new RegistrationFaults(spec, wd.rank);
    const cache = createRegistrationPolicy<MemoryRegion>(wd.options.rcache, {
      ops: {
        register: (start: number, end: number, access: number) => {
          faults.beforeRegister(start, end - start);
          const mr = pd.registerMemory(start, end - start, access);
          forkSafe(start, end - start);
          return mr;
        },
        deregister: (mr: MemoryRegion) => pd.deregister(mr),
      },
      space,
      pageSize: memory.pageSize,
      charge: (us: number) => deviceClockCore.advance(us),
      now: () => deviceClockCore.now,
      cost: { hitUs: cost.rcacheHitUs, drainUs: cost.notifierDrainUs },
      ...(Number.isFinite(wd.options.rcacheMaxRegions) ? { maxRegions: wd.options.rcacheMaxRegions } : {}),
    });

    trace('domain and cache');
    const layout = BouncePool.layout(ENVELOPE_BYTES, wd.options.eagerThreshold, memory.pageSize);
    const slab = space.mmap(layout.bytes, { populate: true });
    let slabMr: MemoryRegion;
    try {
      slabMr = pd.registerMemory(slab, layout.bytes, Access.LOCAL_WRITE | Access.REMOTE_WRITE | Access.REMOTE_READ);
      // the runtime's own bounce buffers never follow a fork, whatever --fork-safe says (UCX calls
      // ibv_fork_init by default, UCX_IB_FORK_INIT=try): a child shares none of the envelopes in flight
      space.madvise(slab, layout.bytes, 'dontfork');
    } catch (e) {
      if ((e as { code?: unknown }).code !== 'ENOMEM') throw e;
      const err = new MemlockExhausted(
        `rank ${wd.rank} cannot pin its ${layout.bytes} bytes of eager bounce buffers within its locked-memory limit of ` +
          `${wd.options.memlock} bytes: raise it (tsmpi run --memlock 8M, or unlimited) or lower --eager (${wd.options.eagerThreshold} B now)`,
      );
      (err as { cause?: unknown }).cause = e;
      throw err;
    }
    // Bounce buffers are hot for the whole job: prefetch them into an ODP adapter's page table now
    // (ibv_advise_mr), so no network page fault lands inside the program's timed loops. No-op on pinning.
    pd.advise(slabMr, slab, layout.bytes);
    const pool = new BouncePool(slab, slabMr.lkey, layout.slotBytes, layout.recvSlots, layout.sendSlots);
    const cq = pd.createCompletionQueue({ depth: 16384 });
    const srq = pd.createSharedReceiveQueue({ depth: layout.recvSlots });
    // Queue pairs to peers of this process are made on first use (connections.ts); a peer behind the
    // network wire gets one now, connected at wire-up, as its process cannot create ours.
    const nodeOf = (p: number): number => nodeOfRank(p, wd.size, wd.options.nodes);
    const qpOptions = { sendCq: cq, recvCq: cq, srq };
    const wiredAtStart = Array.from({ length: wd.size }, (_, p) =>
      p === wd.rank || adapters[nodeOf(p)] !== undefined ? undefined : pd.createQueuePair(qpOptions),
    );
    const listens: (ListenAddress | undefined)[] = new Array(wd.size).fill(undefined);
    const byDomain = new Map<string, ListenAddress>();
    const onDemand = pd.listen(qpOptions, (nodeId, domainId) => byDomain.get(`${nodeId}:${domainId}`));
    const qps = new RankConnections(wd.rank, wd.connections, onDemand, listens, wiredAtStart);

    const timedFaults = injects(spec) ? injectTimedFaults(spec, wd, { pd, space, qps, faults }) : undefined;
    const counters = emptyMessageCounters();
    const intra = openIntra(wd, memory, space, deviceClockCore, device);
    const engine = new Engine({
      rank: wd.rank,
      size: wd.size,
      space,
      heap,
      clock,
      device,
      cq,
      srq,
      qps,
      pool,
      cache,
      ctrl,
      costs: { overheadUs: cost.overheadUs, pollUs: cost.pollUs, memcpyGBps: cost.memcpyGBps },
      eagerThreshold: wd.options.eagerThreshold,
      rndv: { ...parseRndv(wd.options.rndv ?? 'auto'), noncontig: parseNoncontig(wd.options.noncontig ?? 'auto'), maxSge: adapter.state.limits.maxSge },
      counters,
      ...(intra ? { intra: intra.path } : {}),
      spins: wd.oversubscribed ? SPINS_OVERSUBSCRIBED : SPINS_DEDICATED,
      cores: availableParallelism(),
      ...(wd.horizon ? { horizon: attachHorizon(wd, adapters, cq.id) } : {}),
      // every message leaves its sender's post at least o + L before it arrives (transferTimes); a ring's chunk L_shm
      lookaheadUs: ringLookahead(wd, cost, cost.overheadUs + Math.min(latencyUs(cost, true), latencyUs(cost, false))),
      ...(timedFaults ? { faults: timedFaults } : {}),
    });

    trace('bounce slab registered, engine up');
    // Wire-up: publish, towards each peer, our listen address (a peer of this process) or our QP's
    // address (behind the network wire); receive everybody's, connect those QPs, and wait until all have.
    const peers = nextMessage(port, 'peers');
    const endpoint = wiredAtStart.map((q, p) => (p === wd.rank ? undefined : q?.address ?? onDemand.address));
    post(port, { type: 'ready', rank: wd.rank, endpoint });
    // what the launcher relays is each peer's endpoint[p] from its 'ready' message
    const { endpoints } = (await peers) as { endpoints: (QpAddress | undefined)[] };
    trace('peer addresses received');
    endpoints.forEach((a, p) => {
      if (a === undefined || p === wd.rank) return;
      const q = wiredAtStart[p];
      if (q !== undefined) return q.connect(a);
      listens[p] = a as ListenAddress;
      byDomain.set(`${a.nodeId}:${a.domainId}`, a as ListenAddress);
    });
    intra?.connect(endpoints);
    trace('connected');
    const go = nextMessage(port, 'go');
    post(port, { type: 'connected', rank: wd.rank });
    await go;

    // Tracing wraps the entry points first, so the compute boundary's wrapper (outside it) charges the
    // program's work before a traced call reads its start time.
    if (wd.trace) {
      installTracing({
        rank: wd.rank, node: wd.node, settings: wd.trace, clock, deviceNow: () => deviceClockCore.now, cache,
        adapterStats: () => pd.stats, odp: wd.options.fabric === 'odp', mmu: space.mmuNotifier, eagerThreshold: wd.options.eagerThreshold,
        ...(intra ? { intra: intra.path } : {}), runtimeProto: RankRuntime.prototype,
      });
    }
    // from here on the program runs: with measured compute, its time between runtime calls is charged
    const compute = parseCompute(wd.options.compute);
    if (compute.kind === 'measured') installComputeBoundary(new ComputeBoundary(clock, compute.factor), RankRuntime.prototype);
    return new RankRuntime({ wd, port, ctrl, space, heap, clock, pd, cache, engine, counters, ...(intra ? { intra } : {}),
      ...(timedFaults ? { faults: timedFaults } : {}) });
  }

  stats(): RankStats {
    return {
      rank: this.worldRank,
      node: this.node,
      virtualUs: this.clock.now,
      messages: { ...this.counters },
      rcache: numericLeaves(this.cache.stats),
      // intra-node transport counters ride along as adapter.intra.* (issue 7)
      adapter: numericLeaves(this.intra ? { ...this.pd.stats, intra: this.intra.endpoint.stats } : this.pd.stats),
      collectives: numericLeaves(this.collectiveCounters),
      time: this.clock.split(),
      ...(this.faults ? { faults: { ...this.faults.counts } } : {}),
    };
  }

  setResult(value: unknown): void {
    this.result = value;
  }

  abort(code: number, message: string): never {
    post(this.port, { type: 'abort', rank: this.worldRank, code, message });
    this.ctrl.abort(code);
    const e = new JobAborted(`rank ${this.worldRank} called abort(${code})`);
    selfAborts.add(e);
    throw e;
  }

  /** MPI_Finalize: every rendezvous send read by its receiver. */
  finalize(): void {
    this.engine.finalize();
  }
}

/**
 * The protection domain's clock, positioned by the engine before each operation so that the
 * adapter's completion times follow from the operation's virtual start, not from when progress
 * happened to run.
 */
function deviceClock(core: VirtualClock): DeviceClock {
  return {
    get now() {
      return core.now;
    },
    advance: (us: number) => void core.advance(us),
    advanceTo: (t: number) => void core.advanceTo(t),
    set: (t: number) => void core.set(t),
  };
}

function post(port: MessagePort, m: RankToLauncher): void {
  port.postMessage(m);
}

function nextMessage(port: MessagePort, type: LauncherToRank['type']): Promise<LauncherToRank> {
  return new Promise((resolve) => {
    const on = (m: LauncherToRank) => {
      if (m.type !== type) return;
      port.off('message', on);
      resolve(m);
    };
    port.on('message', on);
  });
}

/**
 * This rank's view of the job's horizon: every rank of this process publishes there, and a rank's
 * completion-queue watermark is read from its node's adapter (attached in every thread), with the
 * watermark of its node's rings into it (`--intra shm|auto`).
 */
function attachHorizon(wd: RankWorkerData, adapters: ReadonlyArray<Adapter | undefined>, cqId: number): Horizon {
  const nodeOf = Array.from({ length: wd.size }, (_, r) => nodeOfRank(r, wd.size, wd.options.nodes));
  const cqMark = (rank: number, cq: number): number => adapters[nodeOf[rank]!]?.completionWatermark(cq) ?? Infinity;
  const ringMark = ringWatermarks(wd);
  const horizon = Horizon.attach(wd.horizon!, ringMark ? (rank, cq) => Math.min(cqMark(rank, cq), ringMark(rank)) : cqMark);
  horizon.setCompletionQueue(wd.rank, cqId);
  return horizon;
}
