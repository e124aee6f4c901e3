import { AdapterTableFull, type ListenAddress, type OnDemandConnections, type QueuePair } from '@tsmpi/fabric';
import { QueuePairsExhausted } from '../errors.js';
import { MAX_QUEUE_PAIRS } from '../option-checks.js';
import type { QueuePairsPort } from '../p2p/ports.js';

/** The job's connection directory: one Int32 cell per ordered pair of ranks (a handle crosses threads). */
export interface ConnectionTableHandle {
  kind: 'connection-table';
  ranks: number;
  cells: SharedArrayBuffer;
}

/** Cell [lo][hi] of a pair while the rank that won it builds both ends. */
const CONNECTING = -1;

/**
 * np² cells, but the operating system commits a page of a SharedArrayBuffer only when it is written:
 * a rank that talks to k peers touches about k cells of its own row, one page for up to 1024 peers.
 */
export function createConnectionTable(ranks: number): ConnectionTableHandle {
  return { kind: 'connection-table', ranks, cells: new SharedArrayBuffer(ranks * ranks * 4) };
}

/**
 * A rank's queue pairs, one per peer it talks to, made on first use (MVAPICH's on-demand connection
 * manager; UCX's wireup). Cell [a][b] holds a's queue-pair number towards b, 0 while none. The pair's
 * lower rank's cell [lo][hi] doubles as its lock: whichever rank takes it first (0 → CONNECTING)
 * builds both ends (fabric's OnDemandConnections), then fills both cells, which releases the lock;
 * the other takes its end over from its cell. Peers in another process (the network wire) were connected at start-up.
 */
export class RankConnections implements QueuePairsPort {
  private readonly cells: Int32Array;
  private readonly ranks: number;
  private readonly open: (QueuePair | undefined)[];
  private readonly peers = new Map<number, number>();
  private readonly hooks: ((qp: QueuePair) => void)[] = [];

  constructor(
    private readonly rank: number,
    table: ConnectionTableHandle,
    private readonly onDemand: OnDemandConnections,
    private readonly listens: readonly (ListenAddress | undefined)[],
    wiredAtStart: readonly (QueuePair | undefined)[],
  ) {
    this.cells = new Int32Array(table.cells);
    this.ranks = table.ranks;
    this.open = new Array(table.ranks).fill(undefined);
    wiredAtStart.forEach((q, p) => q && this.remember(p, q));
  }

  /** How many peers this rank has a queue pair to. */
  get count(): number {
    return this.open.reduce((n, q) => n + (q === undefined ? 0 : 1), 0);
  }

  to(peer: number): QueuePair {
    return this.open[peer] ?? this.remember(peer, this.connect(peer));
  }

  peerOf(qpNum: number): number {
    return this.peers.get(qpNum) ?? -1;
  }

  opened(peer: number): QueuePair | undefined {
    return this.open[peer];
  }

  /** Runs `hook` on every queue pair open now and on each one opened later (--inject's link-down window). */
  onOpen(hook: (qp: QueuePair) => void): void {
    this.hooks.push(hook);
    for (const q of this.open) if (q) hook(q);
  }

  private remember(peer: number, qp: QueuePair): QueuePair {
    this.open[peer] = qp;
    this.peers.set(qp.qpNum, peer);
    for (const h of this.hooks) h(qp);
    return qp;
  }

  private connect(peer: number): QueuePair {
    const listen = this.listens[peer];
    if (listen === undefined || peer === this.rank) throw new RangeError(`rank ${this.rank} has no way to connect to rank ${peer}`);
    const n = this.ranks;
    const lo = Math.min(this.rank, peer);
    const hi = Math.max(this.rank, peer);
    const lock = lo * n + hi;
    const mine = this.rank * n + peer;
    for (;;) {
      const got = Atomics.load(this.cells, mine);
      if (got > 0) return this.onDemand.accept(got);
      if (Atomics.compareExchange(this.cells, lock, 0, CONNECTING) === 0) {
        let qp: QueuePair;
        try {
          qp = this.onDemand.connect(listen);
        } catch (e) {
          Atomics.store(this.cells, lock, 0);
          Atomics.notify(this.cells, lock);
          throw e instanceof AdapterTableFull ? this.exhausted(peer, e) : e;
        }
        const theirs = qp.peer!.qpNum;
        Atomics.store(this.cells, peer * n + this.rank, theirs);
        Atomics.store(this.cells, mine, qp.qpNum);
        Atomics.notify(this.cells, lock);
        return qp;
      }
      // the peer is building both ends right now, without blocking on anything: wait for its last store
      Atomics.wait(this.cells, lock, CONNECTING, 100);
    }
  }

  private exhausted(peer: number, e: AdapterTableFull): QueuePairsExhausted {
    const err = new QueuePairsExhausted(
      `rank ${this.rank} cannot connect to rank ${peer}: its node's adapter or the peer's has all its queue pairs in use ` +
        `(an adapter offers ${MAX_QUEUE_PAIRS}; one is made for each pair of ranks that talk, on first use): ` +
        'spread the ranks over more nodes (--nodes), or run the nodes as separate processes (--procs)',
    );
    (err as { cause?: unknown }).cause = e;
    return err;
  }
}
