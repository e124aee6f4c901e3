import { InvalidArgument } from './errors.js';
import type { AddressSpace } from './address-space.js';
import type { InvalidationRange } from './mmu-notifier.js';
import { RangeNode, WatchIndex } from './watch-index.js';

/*
 * Shared layout (Int32Array header, then a Float64Array ring of cookies):
 *   GENERATION  bumped once per invalidation that hits at least one watched range
 *   HEAD, COUNT ring position and fill; the ring holds `capacity` cookies
 *   OVERFLOWED  1 when a cookie could not be queued: the consumer must treat everything as invalid
 * Producer (the mmu notifier callback) and consumer (drain) both run on the owner thread; the
 * generation is in shared memory so that checking it costs one atomic load and could be done by
 * any thread that holds the buffer.
 */
const GENERATION = 0;
const HEAD = 1;
const COUNT = 2;
const OVERFLOWED = 3;
const HEADER_BYTES = 16;

/** A watched range; `seq` is its registration order, the order an invalidation queues cookies in. */
class Watch extends RangeNode {
  /** queued and not drained yet: repeats collapse into this one entry */
  queued = false;

  constructor(start: number, end: number, seq: number, readonly cookie: number) {
    super(start, end, seq);
  }
}

const bySeq = (x: Watch, y: Watch): number => x.seq - y.seq;

export interface UmmunotifyStats {
  /** invalidations that hit at least one watched range */
  events: number;
  /** cookies put in the queue */
  queued: number;
  /** hits on a cookie already queued (not queued again) */
  collapsed: number;
  /** hits that found the queue full */
  overflows: number;
  /** cookies returned by drain */
  drained: number;
  registered: number;
  pending: number;
}

/**
 * The userspace notifier channel of Roland Dreier's ummunotify prototype (OpenFabrics, 2009), fed by the
 * address space's mmu notifier. A registration cache registers each range with a cookie,
 * compares `generation` on every lookup, and drains the invalidated cookies in batches only
 * when it moved. The queue is bounded: each cookie is queued at most once until drained, and a
 * full queue sets `overflowed` instead of growing.
 */
export class Ummunotify {
  readonly capacity: number;
  readonly buffer: SharedArrayBuffer;
  private readonly cells: Int32Array;
  private readonly ring: Float64Array;
  /** cookie → watch; iteration order is registration order (release and clearOverflow walk it) */
  private readonly watches = new Map<number, Watch>();
  /** the same watches by range, so an invalidation finds the ones it overlaps without a scan */
  private readonly index = new WatchIndex<Watch>();
  /** scratch for one invalidation's hits (owner thread only; never held across calls) */
  private readonly hits: Watch[] = [];
  private nextSeq = 0;
  private readonly unsubscribe: () => void;
  private closed = false;
  private readonly counts = { events: 0, queued: 0, collapsed: 0, overflows: 0, drained: 0 };

  constructor(space: AddressSpace, opts: { capacity?: number } = {}) {
    const capacity = opts.capacity ?? 1024;
    if (!Number.isInteger(capacity) || capacity < 1) throw new InvalidArgument(`Ummunotify: capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.buffer = new SharedArrayBuffer(HEADER_BYTES + capacity * 8);
    this.cells = new Int32Array(this.buffer, 0, HEADER_BYTES / 4);
    this.ring = new Float64Array(this.buffer, HEADER_BYTES, capacity);
    this.unsubscribe = space.mmuNotifier.subscribe({
      invalidateRangeStart: (r) => this.onInvalidate(r),
      invalidateRangeEnd: () => {},
      release: () => this.onRelease(),
    });
  }

  /** Watch [start, end) under `cookie` (a safe integer, unique among live registrations). */
  register(start: number, end: number, cookie: number): void {
    if (this.closed) throw new InvalidArgument('Ummunotify: register after close()');
    if (!Number.isSafeInteger(cookie)) throw new InvalidArgument(`Ummunotify: cookie must be a safe integer, got ${cookie}`);
    if (!(end > start)) throw new InvalidArgument(`Ummunotify: empty range [${start}, ${end})`);
    if (this.watches.has(cookie)) throw new InvalidArgument(`Ummunotify: cookie ${cookie} is already registered; unregister it first`);
    const w = new Watch(start, end, this.nextSeq++, cookie);
    this.watches.set(cookie, w);
    this.index.insert(w);
  }

  unregister(cookie: number): void {
    const w = this.watches.get(cookie);
    if (w === undefined) return;
    this.watches.delete(cookie);
    this.index.remove(w);
  }

  /** One atomic load: compare with the value seen at the last drain. */
  get generation(): number {
    return Atomics.load(this.cells, GENERATION);
  }

  get overflowed(): boolean {
    return Atomics.load(this.cells, OVERFLOWED) === 1;
  }

  get pending(): number {
    return this.cells[COUNT]!;
  }

  /** Up to `max` cookies invalidated since they were last drained, each once, oldest first. */
  drain(max = Infinity): number[] {
    const out: number[] = [];
    while (out.length < max && this.cells[COUNT]! > 0) {
      const head = this.cells[HEAD]!;
      const cookie = this.ring[head]!;
      this.cells[HEAD] = (head + 1) % this.capacity;
      this.cells[COUNT]!--;
      const w = this.watches.get(cookie);
      // an entry whose watch was unregistered (or re-registered since) is dropped
      if (w === undefined || !w.queued) continue;
      w.queued = false;
      out.push(cookie);
    }
    this.counts.drained += out.length;
    return out;
  }

  /**
   * After an overflow the consumer has flushed everything it held: empty the queue and clear
   * the flag so that tracking restarts from a clean state.
   */
  clearOverflow(): void {
    this.cells[HEAD] = 0;
    this.cells[COUNT] = 0;
    for (const w of this.watches.values()) w.queued = false;
    Atomics.store(this.cells, OVERFLOWED, 0);
  }

  get stats(): UmmunotifyStats {
    return { ...this.counts, registered: this.watches.size, pending: this.pending };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.watches.clear();
    this.index.clear();
  }

  private onInvalidate(r: InvalidationRange): void {
    const hits = this.hits;
    this.index.overlapping(r.start, r.end, hits);
    if (hits.length === 0) return;
    // Queue in registration order, as a scan of all watches would: it decides which cookies fit
    // when the queue fills. The index yields them by start; overlapping watches that nest need a sort.
    for (let i = 1; i < hits.length; i++) {
      if (hits[i]!.seq < hits[i - 1]!.seq) {
        hits.sort(bySeq);
        break;
      }
    }
    for (const w of hits) this.enqueue(w);
    hits.length = 0;
    this.counts.events++;
    Atomics.add(this.cells, GENERATION, 1);
  }

  private onRelease(): void {
    // exit: every watched range is gone
    for (const w of this.watches.values()) this.enqueue(w);
    if (this.watches.size > 0) {
      this.counts.events++;
      Atomics.add(this.cells, GENERATION, 1);
    }
  }

  private enqueue(w: Watch): void {
    if (w.queued) {
      this.counts.collapsed++;
      return;
    }
    if (this.cells[COUNT]! >= this.capacity) {
      this.counts.overflows++;
      Atomics.store(this.cells, OVERFLOWED, 1);
      return;
    }
    this.ring[(this.cells[HEAD]! + this.cells[COUNT]!) % this.capacity] = w.cookie;
    this.cells[COUNT]!++;
    w.queued = true;
    this.counts.queued++;
  }
}
