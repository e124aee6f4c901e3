import type { CostModel } from '../cost/model.js';
import { AdapterTableFull as AdapterTableFullError, InvalidArgument } from '../errors.js';
import { COUNTER_CELLS } from '../stats.js';
import type { AdapterKind, AdapterLimits, PinMode } from '../types.js';
import { ARENA_HEADER_CELLS, Arena } from './arena.js';
import { PORT_BYTES, Port } from './port.js';
import { ARENA_AT, CQ_STRIDE, MR_STRIDE, MRF_STRIDE, QP_STRIDE, RQ_STRIDE } from './layout.js';

/** Structured-cloneable description of an adapter: put it in workerData, re-open with Adapter.attach. */
export interface AdapterHandle {
  kind: 'adapter';
  backend: AdapterKind;
  nodeId: number;
  pinMode: PinMode;
  cost: CostModel;
  limits: AdapterLimits;
  header: SharedArrayBuffer;
  counters: SharedArrayBuffer;
  mrs: SharedArrayBuffer;
  mrsF64: SharedArrayBuffer;
  qps: SharedArrayBuffer;
  cqs: SharedArrayBuffer;
  rqs: SharedArrayBuffer;
  arena: SharedArrayBuffer;
  /** The HCA port's transmit and receive calendars in virtual time (shared/port.ts). */
  port: SharedArrayBuffer;
}

export const DEFAULT_LIMITS: AdapterLimits = Object.freeze({
  maxDomains: 256,
  maxMemoryRegions: 16384,
  maxQueuePairs: 8192,
  maxCompletionQueues: 1024,
  maxReceiveQueues: 8192,
  // Reserved, not committed: the OS backs a SharedArrayBuffer lazily, so a large arena costs nothing until used.
  arenaBytes: 256 * 1024 * 1024,
  // mlx5 (ConnectX-5/6) ibv_query_device max_sge
  maxSge: 30,
});

/** A key is slot × 2^KEY_RAND_BITS + random bits; the slot count must keep keys below 2^31. */
export const KEY_RAND_BITS = 14;
const MAX_MR_SLOTS = 2 ** (31 - KEY_RAND_BITS) - 1;

/** Typed views over one adapter's shared tables, the same in every thread. */
export class AdapterState {
  readonly handle: AdapterHandle;
  readonly header: Int32Array;
  /** domain states live after the arena header: cell DOMAIN_AT + id */
  readonly domainAt: number;
  readonly counters: BigInt64Array;
  readonly mrs: Int32Array;
  readonly mrsF64: Float64Array;
  readonly qps: Int32Array;
  readonly cqs: Int32Array;
  readonly rqs: Int32Array;
  readonly arena: Arena;
  readonly port: Port;

  constructor(handle: AdapterHandle, fresh: boolean) {
    this.handle = handle;
    this.header = new Int32Array(handle.header);
    this.domainAt = ARENA_AT + ARENA_HEADER_CELLS;
    this.counters = new BigInt64Array(handle.counters);
    this.mrs = new Int32Array(handle.mrs);
    this.mrsF64 = new Float64Array(handle.mrsF64);
    this.qps = new Int32Array(handle.qps);
    this.cqs = new Int32Array(handle.cqs);
    this.rqs = new Int32Array(handle.rqs);
    this.port = new Port(handle.port);
    this.arena = new Arena(this.header.subarray(ARENA_AT, ARENA_AT + ARENA_HEADER_CELLS), handle.arena, fresh);
  }

  static create(backend: AdapterKind, nodeId: number, pinMode: PinMode, cost: CostModel,
    limits: Partial<AdapterLimits> = {}): AdapterState {
    const l: AdapterLimits = { ...DEFAULT_LIMITS, ...limits };
    for (const [k, v] of Object.entries(l)) {
      if (!Number.isInteger(v) || v < 1) throw new InvalidArgument(`createAdapter: limits.${k} must be a positive integer, got ${v}`);
    }
    if (l.maxMemoryRegions > MAX_MR_SLOTS) {
      throw new InvalidArgument(`createAdapter: limits.maxMemoryRegions must be <= ${MAX_MR_SLOTS} (keys are 31-bit)`);
    }
    const i32 = (n: number): SharedArrayBuffer => new SharedArrayBuffer(n * 4);
    const handle: AdapterHandle = {
      kind: 'adapter',
      backend,
      nodeId,
      pinMode,
      cost,
      limits: l,
      header: i32(ARENA_AT + ARENA_HEADER_CELLS + l.maxDomains + 1),
      counters: new SharedArrayBuffer((l.maxDomains + 1) * COUNTER_CELLS * 8),
      mrs: i32((l.maxMemoryRegions + 1) * MR_STRIDE),
      mrsF64: new SharedArrayBuffer((l.maxMemoryRegions + 1) * MRF_STRIDE * 8),
      qps: i32((l.maxQueuePairs + 1) * QP_STRIDE),
      cqs: i32((l.maxCompletionQueues + 1) * CQ_STRIDE),
      rqs: i32((l.maxReceiveQueues + 1) * RQ_STRIDE),
      arena: new SharedArrayBuffer(Math.ceil(l.arenaBytes / 8) * 8),
      port: new SharedArrayBuffer(PORT_BYTES),
    };
    return new AdapterState(handle, true);
  }

  get limits(): AdapterLimits {
    return this.handle.limits;
  }

  /**
   * Claim a free row of a table by CAS on its state cell (0 → `to`), starting at a rotating
   * hint so repeated create/destroy does not rescan from the start. Returns the id (≥ 1).
   */
  claimRow(table: Int32Array, stride: number, count: number, to: number, hintCell: number | undefined,
    what: string, limit: keyof AdapterLimits): number {
    const start = hintCell === undefined ? 1 : Math.max(1, Atomics.load(this.header, hintCell));
    for (let n = 0; n < count; n++) {
      const id = ((start - 1 + n) % count) + 1;
      if (Atomics.compareExchange(table, id * stride, 0, to) === 0) {
        if (hintCell !== undefined) Atomics.store(this.header, hintCell, (id % count) + 1);
        return id;
      }
    }
    throw new AdapterTableFullError(what, limit, count);
  }
}
