import type { RegistrationProvider } from '@tsmpi/rcache';
import { COMM_PROTOTYPES, Comm, Message } from '../comm.js';
import { Request } from '../request.js';
import { CartComm } from '../topology/cart.js';
import { Intercomm } from '../comm/intercomm.js';
import { Group } from '../group.js';
import { protocolFor, type PeerPath } from '../p2p/select.js';
import type { IntraKind } from '../options.js';
import type { Status } from '../status.js';
import type { MessageEnd, RankTrace, TraceCategory, TraceSettings } from './events.js';
import { TraceRecorder } from './recorder.js';

/** What the recorder reads from its rank (rank/runtime.ts builds it). */
export interface TraceTargets {
  rank: number;
  node: number;
  settings: TraceSettings;
  clock: { readonly now: number; split(): RankTrace['split'] };
  /** The protection domain's clock: registrations are charged there. */
  deviceNow(): number;
  cache: Pick<RegistrationProvider<unknown>, 'on' | 'stats'>;
  adapterStats(): { registeredBytes: number; pinnedPages: number; odpFaults: number; odpFaultPages: number };
  /** The adapter translates on demand: network page faults are read after every call. */
  odp: boolean;
  /** The rank's address space's mmu notifier (the cause of an invalidation is read from it). */
  mmu: { subscribe(s: { invalidateRangeStart(r: { start: number; end: number; event: string; cause: string }): void; invalidateRangeEnd(): void; release(): void }): unknown; readonly subscribers: number };
  eagerThreshold: number;
  intra?: { readonly kind: IntraKind; onNode(peer: number): boolean };
  /** RankRuntime.prototype: its finalize() is an MPI call too (MPI_Finalize waits for rendezvous reads). */
  runtimeProto: object;
}

/** Methods that are not MPI calls (memory, clock and counters, checks): never recorded. */
const NOT_CALLS = new Set(['constructor', 'alloc', 'wrap', 'wtime', 'stats', 'chargeLocal', 'targetOf', 'abort', 'then',
  'checkSend', 'checkBuffer', 'checkTyped', 'staging', 'checkPosition', 'checkDest', 'checkSource', 'checkTag', 'sendMode', 'agreeOnContext', 'allgatherInternal', 'result',
  // the engine's side of a request (it completes them inside progress loops)
  'complete', 'fail', 'rearm', 'charge', 'checkUsable']);
const SENDS = new Set(['isend', 'issend', 'isendObject']);
const RECVS = new Set(['irecv', 'irecvObject']);
const P2P = new Set(['send', 'ssend', 'sendObject', 'recv', 'recvObject', 'sendrecv', 'sendrecvObject', 'sendInit', 'recvInit', ...SENDS, ...RECVS,
  'bsend', 'ibsend', 'bufferAttach', 'bufferDetach', 'isendrecv', 'sendrecvReplace', 'isendrecvReplace']);
const PROBES = new Set(['probe', 'iprobe', 'mprobe', 'improbe']);

interface OpenRecv { req: Request; world: (r: number) => number; context: number; order: number }
type CommLike = { route?: { world(r: number): number; rank: number }; context?: number };

/**
 * The rank's tracing state (module state is per rank: one worker thread each). Only the outermost
 * MPI call of the program becomes a complete event; calls it makes inside (recv → irecv + wait)
 * still note the messages they post, so a send and its receive pair up whatever the entry point.
 */
class Tracing {
  readonly rec: TraceRecorder;
  depth = 0;
  private sendOrder = 0;
  private recvOrder = 0;
  private openRecvs: OpenRecv[] = [];
  private sends: MessageEnd[] = [];
  private protocols: string[] = [];
  private lastSplit: RankTrace['split'];
  private lastEnd = 0;
  private faults = 0;
  private faultPages = 0;
  private missAt: number | undefined;
  private registeringBefore = 0;
  private deregisteringBefore = 0;
  private lastCause: { start: number; end: number; event: string; cause: string } | undefined;

  constructor(private readonly t: TraceTargets) {
    const wallOrigin = performance.now();
    const now = t.settings.clock === 'wall' ? () => (performance.now() - wallOrigin) * 1000 : () => t.clock.now;
    this.rec = new TraceRecorder(t.rank, t.node, t.settings, now);
    this.lastSplit = t.clock.split();
    this.lastEnd = this.rec.now();
    const a = t.adapterStats();
    this.faults = a.odpFaults;
    this.faultPages = a.odpFaultPages;
    this.listenToCache();
    this.sampleCounters(this.lastEnd);
  }

  /** Registration-side timestamps: the device clock (virtual), or the wall clock. */
  private cacheNow(): number {
    return this.t.settings.clock === 'wall' ? this.rec.now() : this.t.deviceNow();
  }

  private listenToCache(): void {
    const { cache, mmu } = this.t;
    const stats = () => cache.stats.modeledUs;
    cache.on('miss', (start, end) => {
      this.missAt = this.cacheNow();
      this.registeringBefore = stats().registering;
      this.rec.instant('cache miss', 'rcache', this.missAt, { bytes: end - start });
    });
    cache.on('hit', (reg, path) => this.rec.instant('cache hit', 'rcache', this.cacheNow(), { bytes: (reg.end - reg.start), path }));
    cache.on('register', (reg) => {
      const now = this.cacheNow();
      const modeled = stats().registering - this.registeringBefore;
      const ts = this.missAt ?? now - modeled;
      this.registeringBefore = stats().registering;
      this.missAt = undefined;
      this.rec.complete('register', 'registration', ts, Math.max(modeled, now - ts), { bytes: (reg.end - reg.start), address: hex(reg.start) });
      this.sampleCounters(now);
    });
    cache.on('deregister', (reg, reason) => {
      const now = this.cacheNow();
      const modeled = stats().deregistering - this.deregisteringBefore;
      this.deregisteringBefore = stats().deregistering;
      this.rec.complete('deregister', 'registration', now - modeled, modeled, { bytes: (reg.end - reg.start), address: hex(reg.start), reason });
      this.sampleCounters(now);
    });
    cache.on('evict', (reg, why) => this.rec.instant('evict', 'rcache', this.cacheNow(), { bytes: reg.end - reg.start, why }));
    cache.on('invalidate', (reg, by, deferred) => {
      const c = this.lastCause;
      const cause = c && c.start < reg.end && reg.start < c.end ? `${c.cause} (${c.event})` : 'not heard by the trace';
      const now = this.cacheNow();
      this.rec.instant('invalidation', 'rcache', now, { bytes: reg.end - reg.start, address: hex(reg.start), source: by, cause, deferred });
      this.sampleCounters(now);
    });
    // The cause (munmap, migration, ...) is the address space's; listen only where someone already
    // does, so tracing never turns a change nobody heard into one with a subscriber.
    if (mmu.subscribers > 0) {
      mmu.subscribe({ invalidateRangeStart: (r) => void (this.lastCause = r), invalidateRangeEnd: () => {}, release: () => {} });
    }
  }

  private sampleCounters(ts: number): void {
    const a = this.t.adapterStats();
    this.rec.counter('registered bytes', ts, a.registeredBytes);
    this.rec.counter('pinned pages', ts, a.pinnedPages);
    this.rec.counter('cached regions', ts, this.t.cache.stats.regions);
  }

  /** Entering an outermost call: the program's own work since the last call becomes a compute event. */
  enter(): { ts: number; split: RankTrace['split'] } {
    const split = this.t.clock.split();
    const computed = split.computeUs - this.lastSplit.computeUs;
    if (computed > 0) this.rec.complete('compute', 'compute', this.lastEnd, computed, { compute_us: computed });
    return { ts: this.rec.now(), split };
  }

  /** Messages posted by this call or by a call inside it. */
  note(name: string, self: CommLike, a: unknown[], result: unknown): void {
    if (!self.route || self.context === undefined) return;
    if (SENDS.has(name)) {
      const dest = a[1] as number;
      if (!(dest >= 0)) return;
      const world = self.route.world(dest);
      const req = result as Request;
      const bytes = name === 'isendObject' ? req.statusValue?.byteCount ?? -1 : byteLength(a[0]);
      this.sends.push({ peer: world, tag: (a[2] as number | undefined) ?? 0, context: self.context, bytes, order: this.sendOrder++ });
      this.protocols.push(this.protocolTo(world, Math.max(0, bytes), name === 'issend'));
    } else if (RECVS.has(name)) {
      this.openRecvs.push({ req: result as Request, world: (r) => self.route!.world(r), context: self.context, order: this.recvOrder++ });
    }
  }

  private protocolTo(world: number, bytes: number, synchronous: boolean): string {
    const { intra } = this.t;
    const path: PeerPath = world === this.t.rank ? 'self' : intra && intra.onNode(world) ? intra.kind : 'rdma';
    return protocolFor(path, bytes, this.t.eagerThreshold, synchronous);
  }

  exit(name: string, cat: TraceCategory, start: { ts: number; split: RankTrace['split'] }, self: unknown, a: unknown[], result: unknown, error: unknown): void {
    const end = this.rec.now();
    const split = this.t.clock.split();
    const computed = split.computeUs - start.split.computeUs;
    const args: Record<string, unknown> = {
      ...(computed > 0 ? { compute_us: computed } : {}),
      comm_us: split.communicationUs - start.split.communicationUs,
      wait_us: split.waitingUs - start.split.waitingUs,
      ...callArgs(name, self, a, result),
    };
    const recvs = this.observedRecvs();
    if (this.sends.length > 0) {
      args.sends = this.sends;
      args.protocol = [...new Set(this.protocols)].join(',');
      for (let i = 0; i < this.sends.length; i++) {
        const p = this.protocols[i]!;
        if (p === 'shm' || p === 'rendezvousCma' || p === 'rendezvousXpmem') {
          this.rec.instant('intra-node copy', 'intra', start.ts, { transport: p, peer: this.sends[i]!.peer, bytes: this.sends[i]!.bytes });
        }
      }
      this.sends = [];
      this.protocols = [];
    }
    if (recvs.length > 0) args.recvs = recvs;
    if (error !== undefined) args.error = String((error as Error)?.message ?? error);
    this.rec.complete(name, cat, start.ts, end - start.ts, args);
    // the counter tracks move only with registrations and cache events (sampled there); faults need a look
    if (this.t.odp) {
      const s = this.t.adapterStats();
      if (s.odpFaults > this.faults) {
        this.rec.instant('ODP fault', 'odp', end, { faults: s.odpFaults - this.faults, pages: s.odpFaultPages - this.faultPages });
      }
      this.faults = s.odpFaults;
      this.faultPages = s.odpFaultPages;
    }
    this.lastSplit = split;
    this.lastEnd = end;
  }

  /** Receives the program has seen complete (wait/test), with the source and tag they matched. */
  private observedRecvs(): MessageEnd[] {
    if (this.openRecvs.length === 0) return [];
    const seen: MessageEnd[] = [];
    this.openRecvs = this.openRecvs.filter((o) => {
      if (!o.req.observed) return true;
      const st = o.req.statusValue;
      if (st && st.source >= 0 && !st.cancelled) {
        seen.push({ peer: o.world(st.source), tag: st.tag, context: o.context, bytes: st.byteCount, order: o.order });
      }
      return false;
    });
    return seen;
  }

  finish(): RankTrace {
    const split = this.t.clock.split();
    return this.rec.finish(this.rec.now(), split);
  }
}

let active: Tracing | undefined;

/** Starts recording this rank: wraps every MPI entry point (only when tracing is on; off, nothing is wrapped). */
export function installTracing(t: TraceTargets): void {
  active = new Tracing(t);
  for (const proto of [...COMM_PROTOTYPES, CartComm.prototype, Intercomm.prototype, Group.prototype, Message.prototype]) {
    for (const n of methodNames(proto)) wrap(proto, n, categoryOf(n, proto === Message.prototype));
  }
  for (const n of methodNames(Request.prototype)) wrap(Request.prototype, n, 'wait');
  for (const n of ['waitAll', 'waitAny', 'waitSome', 'testAll', 'testAny', 'testSome', 'startAll']) wrap(Request, n, 'wait');
  wrap(t.runtimeProto, 'finalize', 'runtime');
}

/** The rank's trace at its end (undefined when tracing is off). */
export function finishTracing(): RankTrace | undefined {
  const t = active?.finish();
  active = undefined;
  return t;
}

function categoryOf(name: string, message: boolean): TraceCategory {
  if (message || P2P.has(name)) return 'p2p';
  if (PROBES.has(name)) return 'probe';
  if (name === 'compute') return 'compute';
  return 'collective';
}

const kTraced = Symbol('tsmpi.traced');

function wrap(proto: object, name: string, cat: TraceCategory): void {
  const d = Object.getOwnPropertyDescriptor(proto, name);
  if (!d || typeof d.value !== 'function' || (d.value as { [kTraced]?: boolean })[kTraced]) return;
  const inner = d.value as (...a: unknown[]) => unknown;
  const outer = function (this: unknown, ...a: unknown[]): unknown {
    const st = active;
    if (!st) return inner.apply(this, a);
    const top = st.depth === 0 ? st.enter() : undefined;
    st.depth++;
    let result: unknown;
    let error: unknown;
    try {
      result = inner.apply(this, a);
      st.note(name, this as CommLike, a, result);
      return result;
    } catch (e) {
      error = e;
      throw e;
    } finally {
      st.depth--;
      if (top) st.exit(name, cat, top, this, a, result, error);
    }
  };
  (outer as { [kTraced]?: boolean })[kTraced] = true;
  Object.defineProperty(proto, name, { ...d, value: outer });
}

function methodNames(proto: object): string[] {
  return Object.getOwnPropertyNames(proto).filter((n) => {
    if (NOT_CALLS.has(n)) return false;
    const d = Object.getOwnPropertyDescriptor(proto, n)!;
    return typeof d.value === 'function';
  });
}

/** peer / tag / bytes of a call, from its arguments (sends) or its status (receives, probes). */
function callArgs(name: string, self: unknown, a: unknown[], result: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (name === 'send' || name === 'ssend' || name === 'isend' || name === 'issend' || name === 'sendInit' || name === 'bsend' || name === 'ibsend') {
    Object.assign(out, { peer: a[1], tag: a[2] ?? 0, bytes: byteLength(a[0]) });
  } else if (name === 'sendObject' || name === 'isendObject') {
    Object.assign(out, { peer: a[1], tag: a[2] ?? 0 });
  } else if (isStatus(result)) {
    Object.assign(out, { peer: result.source, tag: result.tag, bytes: result.byteCount });
  } else if (name === 'irecv' || name === 'irecvObject' || name === 'recvInit') {
    Object.assign(out, { peer: a[name === 'irecvObject' ? 0 : 1] ?? 'any', tag: a[name === 'irecvObject' ? 1 : 2] ?? 'any' });
  } else if (self instanceof Comm && a.length > 0) {
    const b = byteLength(a[0]);
    if (b >= 0) out.bytes = b;
  }
  return out;
}

function isStatus(v: unknown): v is Status {
  return typeof v === 'object' && v !== null && 'source' in v && 'byteCount' in v;
}

function byteLength(buf: unknown): number {
  // [buf, count, datatype]: the message is count × the datatype's size
  if (Array.isArray(buf)) return typeof buf[1] === 'number' && typeof buf[2]?.size === 'number' ? buf[1] * buf[2].size : -1;
  const n = (buf as { byteLength?: unknown } | null)?.byteLength;
  return typeof n === 'number' ? n : -1;
}

function hex(n: number): string {
  return '0x' + n.toString(16);
}
