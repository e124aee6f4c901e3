/*
 * Exact virtual time across node processes: conservative synchronisation of the frames a node's
 * network thread applies, as parallel discrete-event simulators keep causality between processes
 * (Chandy–Misra–Bryant: every channel is FIFO, every sender promises a lower bound on the time of
 * what it will still send, the receiver commits an event only when no channel can bring an earlier one).
 *
 * In one process every action that touches a shared resource (a post that reserves a port, that
 * delivers into a receive queue) runs in (virtual time, origin) order, origin being the world rank
 * that posted it. Across processes the responder's half of a post runs in the process that owns
 * the far node, so that process must apply it in the same order among its own ranks' actions:
 * - an operation frame stamped (t0, origin) waits in a per-origin FIFO until `due(origin, t0)`:
 *   every other origin, this node's ranks and the mirrors of the others', is past it;
 * - a READ_DATA lands on the initiator's port, which one process reserved at the post: it waits
 *   for `due` at its post's (t0, origin) too;
 * - while frames of a remote origin wait, its mirror is at most the earliest of them; otherwise
 *   it is what its node last promised (PROMISE frames, sent after the operations they cover);
 * - answers (COMPLETE) are applied on arrival: their initiator's completion queue held its
 *   watermark at or below them (holdCompletion) until then; they leave their node after a promise
 *   read after they were made (held-answers.ts);
 * - each PROMISE to node C also relays the least (bound, origin) this node knows of the other
 *   nodes' origins (their promises and held frames: a RELAYED entry), and C's mirror of that origin
 *   is at most it (the origin's own rank, so ties still go by rank).
 *   An answer from node B ends a hold here, and C learns that from this node's next promise; the
 *   event B's answer stood for C learns from B, on another connection, perhaps later. The relay
 *   carries B's promise, which preceded its answer, along with the news (docs/design.md). It is
 *   made of promises, never of relays, so relays cannot feed each other round a cycle of nodes.
 */

/** Marks a PROMISE entry that relays what its node knows of another node's origin (see above). */
export const RELAYED = 0x80000000;
/** Nothing to relay (one peer, or this node's last word). */
export const NO_RELAY: readonly [number, number] = [0, Infinity];

/** The timing side a node process gives its network wire (mpi's horizon implements it). */
import { FrameType, FrameWriter, Promised, type FrameReader } from './frames.js';

export interface WireSequencer {
  /** Every origin but `origin` — this node's and the mirrored ones — is past (t, origin) (ties go by origin). */
  due(origin: number, t: number): boolean;
  /** This node's origins and their bounds now, as [origin, bound] pairs: what the peers may rely on. */
  promises(): ReadonlyArray<readonly [number, number]>;
  /** Remote `origin` will not act on this node before `bound` (its promise and its waiting frames). */
  mirror(origin: number, bound: number): void;
  /** A counter that moves whenever a bound of this node may have risen: read it before promises(). */
  epoch(): number;
  /** Settles once epoch() differs from `seen`; undefined when it already does. */
  moved(seen: number): Promise<unknown> | undefined;
}

interface Waiting {
  t: number;
  remote: boolean;
  /** Applies the frame; a domain id when it must wait for that domain's announcement (nothing done). */
  apply(): number | undefined;
}

/** The frames a node holds back for virtual-time order, and the mirrors they imply. */
export class FrameOrder {
  private readonly queues = new Map<number, Waiting[]>();
  /** Remote origins: what their node promised last. */
  private readonly promised = new Map<number, number>();
  /** Remote origins: the mirror last published. */
  private readonly published = new Map<number, number>();
  /** Remote origin → its node (from its promises), so a lost node's origins can be let go. */
  private readonly nodeOf = new Map<number, number>();
  /** What each node last relayed: [origin, bound], a bound on that origin's mirror. */
  private readonly relays = new Map<number, readonly [number, number]>();
  private waitingFor: number | undefined;

  constructor(private readonly seq: WireSequencer, private readonly awaitDomain: (id: number) => Promise<void>) {}

  /** A frame of `origin` stamped `t`, applied in order (remote: `origin` lives on another node). */
  hold(origin: number, t: number, remote: boolean, apply: () => number | undefined): void {
    let q = this.queues.get(origin);
    if (q === undefined) this.queues.set(origin, (q = []));
    q.push({ t, remote, apply });
    if (remote) this.remirror(origin);
  }

  /** A PROMISE entry from `node`. */
  promise(node: number, origin: number, bound: number): void {
    if (origin >= RELAYED) {
      const before = this.relays.get(node);
      this.relays.set(node, [origin - RELAYED, bound]);
      if (before !== undefined && before[0] !== origin - RELAYED) this.remirror(before[0]);
      this.remirror(origin - RELAYED);
      return;
    }
    this.nodeOf.set(origin, node);
    this.promised.set(origin, bound);
    this.remirror(origin);
  }

  /** `node` is gone: its origins will send nothing more (what waits of theirs is still applied). */
  lost(node: number): void {
    const relay = this.relays.get(node);
    this.relays.delete(node);
    if (relay !== undefined) this.remirror(relay[0]);
    for (const [origin, n] of this.nodeOf) if (n === node) this.promise(node, origin, Infinity);
  }

  /** What this node relays to `dest`: the least (promise or held frame, origin) of the origins on neither node. */
  relayFor(dest: number): readonly [number, number] {
    let least = Infinity;
    let who = 0;
    for (const [origin, n] of this.nodeOf) {
      if (n === dest) continue;
      const b = this.own(origin);
      if (b < least || (b === least && origin < who)) {
        least = b;
        who = origin;
      }
    }
    return [who, least];
  }

  /** Apply every waiting frame that is due, earliest (t, origin) first. */
  release(): void {
    if (this.waitingFor !== undefined) return;
    for (;;) {
      let best: number | undefined;
      let bt = Infinity;
      for (const [origin, q] of this.queues) {
        const t = q[0]!.t;
        if (t < bt || (t === bt && origin < best!)) {
          bt = t;
          best = origin;
        }
      }
      if (best === undefined || !this.seq.due(best, bt)) return;
      const q = this.queues.get(best)!;
      const head = q[0]!;
      const domain = head.apply();
      if (domain !== undefined) {
        this.waitingFor = domain;
        void this.awaitDomain(domain).finally(() => {
          this.waitingFor = undefined;
          this.release();
        });
        return;
      }
      q.shift();
      if (q.length === 0) this.queues.delete(best);
      if (head.remote) this.remirror(best);
    }
  }

  /** Frames waiting (for tests and reports). */
  get waiting(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /** `origin`'s promise and held frames (the whole queue, not its head: one origin's posts need not come in virtual-time order). */
  private own(origin: number): number {
    let bound = this.promised.get(origin) ?? 0;
    for (const w of this.queues.get(origin) ?? []) if (w.t < bound) bound = w.t;
    return bound;
  }

  private remirror(origin: number): void {
    let bound = this.own(origin);
    for (const [o, b] of this.relays.values()) if (o === origin && b < bound) bound = b;
    if (this.published.get(origin) === bound) return;
    this.published.set(origin, bound);
    this.seq.mirror(origin, bound);
  }
}

/**
 * What a node promised each peer: its origins' bounds (the same to every peer) and its relay (per peer).
 */
export class PromiseBook {
  private readonly promised = new Map<number, number>();
  private readonly relayed = new Map<number, readonly [number, number]>();

  /** The bounds that changed since they were last promised (taken as promised now). */
  changed(bounds: ReadonlyArray<readonly [number, number]>): Array<readonly [number, number]> {
    const out = bounds.filter(([origin, b]) => this.promised.get(origin) !== b);
    for (const [origin, b] of out) this.promised.set(origin, b);
    return out;
  }

  /** The PROMISE frame for `node`: the changed bounds, and the relay ([origin, bound]) if it moved; undefined when nothing did. */
  frameFor(node: number, changed: ReadonlyArray<readonly [number, number]>, relay: readonly [number, number]): Uint8Array | undefined {
    const entry = RELAYED + relay[0];
    const last = this.relayed.get(node);
    if (last !== undefined && last[0] === entry && last[1] === relay[1]) return changed.length === 0 ? undefined : promiseFrame(changed);
    this.relayed.set(node, [entry, relay[1]]);
    return promiseFrame([...changed, [entry, relay[1]]]);
  }
}

/** A PROMISE frame: each [origin, bound] pair. */
export function promiseFrame(bounds: ReadonlyArray<readonly [number, number]>): Uint8Array {
  const w = new FrameWriter(FrameType.PROMISE, Promised.ENTRIES + bounds.length * Promised.ENTRY).u32(Promised.COUNT, bounds.length);
  bounds.forEach(([origin, bound], i) => {
    const at = Promised.ENTRIES + i * Promised.ENTRY;
    w.u32(at + Promised.ORIGIN, origin).f64(at + Promised.BOUND, bound);
  });
  return w.bytes;
}

/** Each entry of a PROMISE frame; false (nothing read) when its length disagrees with its count. */
export function readPromise(f: FrameReader, each: (origin: number, bound: number) => void): boolean {
  const n = f.u32(Promised.COUNT);
  if (f.bytes.length - f.at !== Promised.ENTRIES + n * Promised.ENTRY) return false;
  for (let i = 0; i < n; i++) {
    const at = Promised.ENTRIES + i * Promised.ENTRY;
    each(f.u32(at + Promised.ORIGIN), f.f64(at + Promised.BOUND));
  }
  return true;
}
