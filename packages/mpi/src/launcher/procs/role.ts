import type { NetworkWire, NetworkWireHandle } from '@tsmpi/fabric';
import type { ControlBlock } from '../control-block.js';
import { RankWatch, samplePeriod } from '../deadlock.js';
import { JobStatus, type NodeStatus } from './deadlock-status.js';
import type { JobFailure, RankResult } from '../job.js';
import type { createNodes } from '../nodes.js';
import { ranksOfNode } from '../placement.js';
import type { ControlLink, ControlMessage } from './control.js';

/** What runJob() hands back to its node role at the end, and gets back (merged over every node at node 0). */
export interface NodeOutcome {
  ranks: RankResult[];
  error?: JobFailure;
  exitCode: number;
}

/**
 * One node process's part in a multi-process job, as runJob() sees it: it starts only `localRanks`,
 * trades queue-pair addresses and the start signal through node 0, hears about failures on other
 * nodes, reports its ranks' waits for the job-wide deadlock check, and hands its results to node 0.
 * Node 0 (the leader) runs the same job and also coordinates: it is the only one that knows the
 * outcome of the whole job, so only it reports.
 */
export class NodeRole {
  readonly localRanks: readonly number[];
  readonly leader: boolean;
  private abortLocal: (f: JobFailure, code: number) => void = () => {};
  private firstFailure: { failure: JobFailure; code: number } | undefined;
  // leader state
  private readonly endpoints: unknown[];
  private endpointsIn = 0;
  private connectedNodes = 0;
  private readonly results = new Map<number, RankResult[]>();
  private readonly lost = new Set<number>();
  private readonly status: JobStatus;
  private deadlockTimer: NodeJS.Timeout | undefined;
  // waiters
  private peersWaiter: ((rows: unknown[]) => void) | undefined;
  private goWaiter: (() => void) | undefined;
  private finishWaiter: ((o: NodeOutcome) => void) | undefined;
  private localOutcome: NodeOutcome | undefined;
  private ended = false;

  constructor(
    readonly node: number,
    readonly nodes: number,
    readonly np: number,
    /** Leader: a link per other node; member: the one link to node 0. */
    private readonly links: Map<number, ControlLink>,
    /** This process's node (created before wire-up: the network wire listens with its adapter). */
    readonly ownNode: ReturnType<typeof createNodes>,
    /** The network wire's handle, for the rank threads (none when the job has a single node). */
    readonly network: NetworkWireHandle | undefined,
    /** The network wire itself (this process's main thread runs it), for exact timing across processes. */
    readonly wire?: NetworkWire,
  ) {
    this.localRanks = ranksOfNode(node, np, nodes);
    this.leader = node === 0;
    this.endpoints = new Array(np);
    this.status = new JobStatus(nodes);
    for (const [peerNode, link] of links) link.listen((m) => this.onMessage(peerNode, m), (e) => this.onLinkClosed(peerNode, e));
  }

  /** runJob's own teardown, called for a failure anywhere in the job. */
  onAbort(abort: (f: JobFailure, code: number) => void): void {
    this.abortLocal = abort;
    if (this.firstFailure) abort(this.firstFailure.failure, this.firstFailure.code);
  }

  /**
   * `local[r]` holds local rank r's QP addresses toward every rank; resolves with rows whose columns
   * for this node's ranks are filled (row p, column r: rank p's address toward rank r).
   */
  exchange(local: unknown[]): Promise<unknown[]> {
    const mine: Record<number, unknown> = {};
    for (const r of this.localRanks) mine[r] = local[r];
    return new Promise((resolve) => {
      // Our own ranks' rows stay as they are: they carry shared memory that does not cross processes.
      this.peersWaiter = (rows) => resolve(rows.map((row, p) => (p in mine ? local[p] : row)));
      if (this.leader) this.takeEndpoints(mine);
      else this.toLeader({ t: 'endpoints', node: this.node, endpoints: mine });
    });
  }

  /** Every local rank has connected its queue pairs; resolves when every node's have. */
  allConnected(): Promise<void> {
    return new Promise((resolve) => {
      this.goWaiter = resolve;
      if (this.leader) this.nodeConnected();
      else this.toLeader({ t: 'connected', node: this.node });
    });
  }

  /** A local rank failed (or this node's deadlock view, or a lost peer): the whole job ends. */
  failed(local: JobFailure, code: number): void {
    if (this.firstFailure) return;
    // Across processes the report names the node too: "rank 5 on node 2 failed: ...".
    const r = local.rank;
    const failure = r !== undefined && local.message.startsWith(`rank ${r} `) && this.localRanks.includes(r)
      ? { ...local, message: `rank ${r} on node ${this.node} ${local.message.slice(`rank ${r} `.length)}` }
      : local;
    this.firstFailure = { failure, code };
    if (this.leader) this.broadcast({ t: 'failure', failure, code, node: this.node });
    else this.toLeader({ t: 'failure', failure, code, node: this.node });
  }

  /**
   * Reports the local ranks' states every period; node 0 declares a deadlock when every node's
   * ranks are settled (deadlock.ts) and nothing has moved anywhere, no frame on its way, for
   * `windowMs` (deadlock-status.ts). `boundOf`: a rank's published bound (exact timing).
   */
  watchDeadlock(ctrl: ControlBlock, windowMs: number, onDeadlock: (waits: string[]) => void, boundOf?: (rank: number) => number): void {
    const frames = (): number => {
      const f = this.wire?.frames;
      return f ? (f.out * 7 + f.in) | 0 : 0;
    };
    const watch = new RankWatch(ctrl, this.localRanks, { ...(boundOf ? { boundOf } : {}), extra: frames });
    this.deadlockTimer = setInterval(() => {
      const mine = this.sample(ctrl, watch);
      if (!this.leader) return this.toLeader(mine);
      this.status.take(mine);
      if (this.status.stuck(windowMs, this.lost)) {
        this.stopWatching();
        onDeadlock(this.status.waits());
      }
    }, samplePeriod(windowMs));
    this.deadlockTimer.unref();
  }

  stopWatching(): void {
    if (this.deadlockTimer) clearInterval(this.deadlockTimer);
    this.deadlockTimer = undefined;
  }

  /** Every local rank is gone: a member hands its results over; the leader waits for all and merges. */
  finish(local: NodeOutcome): Promise<NodeOutcome> {
    this.stopWatching();
    // a node that has the end closes its wire before the others hear of the end: not a lost peer
    this.wire?.ranksDone();
    this.localOutcome = local;
    return new Promise((resolve) => {
      this.finishWaiter = resolve;
      if (this.leader) {
        this.results.set(0, local.ranks);
        this.maybeEnd();
      } else if (this.ended) {
        resolve(local);
      } else {
        this.toLeader({ t: 'results', node: this.node, ranks: local.ranks });
      }
    });
  }

  private sample(ctrl: ControlBlock, watch: RankWatch): NodeStatus {
    // the frame counts first: a frame that arrives after them moves the fingerprint the watch reads
    const frames = this.wire?.frames ?? { out: 0, in: 0 };
    const { live, blocked, settled, fingerprint } = watch.sample();
    const waits: Array<[number, string]> = this.localRanks.map((r) => [r, `${ctrl.describe(r)} (node ${this.node})`]);
    return { t: 'status', node: this.node, live, blocked, settled, fingerprint, framesOut: frames.out, framesIn: frames.in, waits };
  }

  private onMessage(from: number, m: ControlMessage): void {
    switch (m.t) {
      case 'endpoints':
        return this.takeEndpoints(m.endpoints);
      case 'peers':
        return this.peersWaiter?.(m.rows);
      case 'connected':
        return this.nodeConnected();
      case 'go':
        return this.goWaiter?.();
      case 'status':
        this.status.take(m);
        return;
      case 'failure':
        return this.remoteFailure(m.failure, m.code, from);
      case 'results':
        this.results.set(from, m.ranks);
        return this.maybeEnd();
      case 'end':
        this.ended = true;
        if (this.localOutcome) this.finishWaiter?.({ ...this.localOutcome, exitCode: m.exitCode });
        return;
      default:
        this.onLinkClosed(from, new Error(`node ${from} sent ${m.t}, which has no place in a running job`));
    }
  }

  private remoteFailure(failure: JobFailure, code: number, from: number): void {
    if (!this.firstFailure) {
      this.firstFailure = { failure, code };
      if (this.leader) this.broadcast({ t: 'failure', failure, code, node: from }, from);
    }
    this.abortLocal(failure, code);
  }

  private onLinkClosed(peer: number, error: Error | undefined): void {
    if (this.leader) {
      if (this.results.has(peer)) return; // it said goodbye
      this.lost.add(peer);
      const ranks = ranksOfNode(peer, this.np, this.nodes);
      const why = error ? error.message : 'its process ended without a word (killed, or crashed)';
      const failure: JobFailure = { kind: 'exit', message: `node ${peer} (ranks ${span(ranks)}) was lost: ${why}` };
      if (ranks.length) failure.rank = ranks[0]!;
      this.remoteFailure(failure, 1, peer);
      this.maybeEnd();
      return;
    }
    if (this.ended) return;
    this.ended = true;
    const failure: JobFailure = { kind: 'exit', rank: 0, message: `node 0 was lost: ${error ? error.message : 'its control connection closed (killed, or crashed)'}` };
    this.remoteFailure(failure, 1, 0);
    if (this.localOutcome) this.finishWaiter?.({ ...this.localOutcome, error: failure, exitCode: this.localOutcome.exitCode || 1 });
  }

  private takeEndpoints(byRank: Record<number, unknown>): void {
    for (const [r, e] of Object.entries(byRank)) {
      if (this.endpoints[Number(r)] === undefined) this.endpointsIn++;
      this.endpoints[Number(r)] = e;
    }
    if (this.endpointsIn < this.np) return;
    for (let k = 0; k < this.nodes; k++) {
      const cols = ranksOfNode(k, this.np, this.nodes);
      // Each node gets only the columns its ranks read (np × its ranks addresses, not np²).
      const rows = this.endpoints.map((row) => {
        const full = row as unknown[];
        const out: unknown[] = new Array(this.np).fill(null);
        for (const c of cols) out[c] = full[c] ?? null;
        return out;
      });
      if (k === 0) this.peersWaiter?.(rows);
      else this.links.get(k)?.send({ t: 'peers', rows });
    }
  }

  private nodeConnected(): void {
    if (++this.connectedNodes < this.nodes) return;
    this.broadcast({ t: 'go' });
    this.goWaiter?.();
  }

  private maybeEnd(): void {
    if (!this.leader || !this.localOutcome || this.ended) return;
    for (let k = 0; k < this.nodes; k++) if (!this.results.has(k) && !this.lost.has(k)) return;
    this.ended = true;
    const ranks: RankResult[] = [];
    for (let k = 0; k < this.nodes; k++) {
      const got = this.results.get(k);
      if (got) ranks.push(...got);
      else for (const r of ranksOfNode(k, this.np, this.nodes)) ranks.push({ rank: r, node: k, outcome: 'killed' });
    }
    ranks.sort((a, b) => a.rank - b.rank);
    const error = this.firstFailure?.failure ?? this.localOutcome.error;
    const exitCode = this.firstFailure ? this.firstFailure.code || 1 : this.localOutcome.exitCode;
    this.broadcast({ t: 'end', exitCode });
    this.finishWaiter?.({ ranks, ...(error ? { error } : {}), exitCode });
  }

  private toLeader(m: ControlMessage): void {
    this.links.get(0)?.send(m);
  }

  private broadcast(m: ControlMessage, except?: number): void {
    for (const [k, link] of this.links) if (k !== except) link.send(m);
  }
}

function span(ranks: readonly number[]): string {
  if (ranks.length === 0) return 'none';
  return ranks.length === 1 ? String(ranks[0]) : `${ranks[0]}-${ranks[ranks.length - 1]}`;
}
