import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { pack, unpack } from 'msgpackr';
import { Adapter } from '../adapter.js';
import { InvalidArgument, NetworkError } from '../errors.js';
import type { Wire } from '../wire.js';
import { Connection } from './connection.js';
import { AwaitAnnouncement, DomainSpaces } from './domain-spaces.js';
import { Data, DoneBits, Done, FrameType, FrameWriter, Op, type FrameReader } from './frames.js';
import { NOTE, Outbox, createOutbox } from './outbox.js';
import { SocketLanes, createLanes } from './lanes.js';
import { RankWire } from './rank-wire.js';
import { NetworkResponder } from './responder.js';
import { InFlight } from './in-flight.js';
import { inboundDelay } from './inbound-delay.js';
import { HeldAnswers, type Answer } from './held-answers.js';
import { parseAddress } from './peer-address.js';
import type { ListenOptions, NetworkWireHandle, PeerAddress } from './types.js';
import { FrameOrder, NO_RELAY, PromiseBook, readPromise, type WireSequencer } from './sequencer.js';

/** ListenOptions.pollUs's default. */
const POLL_US = 0;

/**
 * The network wire of one node process (see types.ts for the picture). Created on the process's
 * main thread, which becomes its network thread: it owns the sockets, moves records from the
 * ranks' outbox to the peers, and runs the responder's half of what the peers send.
 */
export class NetworkWire {
  /** "host:port" this node listens on: publish it (PMI put) for the other nodes' connectPeers. */
  readonly address: string;
  readonly nodeId: number;
  /** Structured-cloneable: workerData of every rank thread of this node. */
  readonly handle: NetworkWireHandle;

  private readonly outbox: Outbox;
  private readonly spaces: DomainSpaces;
  private readonly responder: NetworkResponder;
  private readonly peers = new Map<number, string>();
  /** The one connection per peer node (dialed or accepted), or the dialed one whose frames wait for it. */
  private readonly conns = new Map<number, Connection>();
  private readonly inFlight: InFlight;
  private readonly sockets = new Set<Socket>();
  /** Who writes each peer's socket: small frames go onto it straight from the rank threads when it is idle. */
  private readonly lanes: SocketLanes;
  private lastActive = 0;
  private spinning = false;
  private parked = false;
  private closed = false;
  /** See ranksDone. */
  private ending = false;
  /** Exact timing across processes (sequenceBy): the frames held back for virtual-time order. */
  private order: FrameOrder | undefined;
  private sequencer: WireSequencer | undefined;
  /** What each peer was promised. */
  private readonly book = new PromiseBook();
  private parkedOnBounds = false;
  /** Answers the responder made under exact timing: they leave after the next promise (held-answers.ts). */
  private readonly answers = new HeldAnswers();
  /** Frames handed to the peers' connections and frames received from them (the job's deadlock check). */
  private framesOut = 0;
  private framesIn = 0;

  private readonly pollMs: number;
  private readonly inbound = inboundDelay(process.env, (c, f, payload) => this.received(c, f, payload));

  private constructor(private readonly adapter: Adapter, private readonly server: Server, address: string,
    private readonly token: Buffer, opts: ListenOptions, private readonly onError: (e: NetworkError) => void) {
    this.pollMs = (opts.pollUs ?? POLL_US) / 1000;
    this.address = address;
    this.nodeId = adapter.nodeId;
    const outbox = createOutbox(opts.outboxBytes);
    const channel = `tsmpi-net-${adapter.nodeId}-${randomBytes(8).toString('hex')}`;
    const lanes = createLanes();
    this.handle = { kind: 'network-wire', nodeId: adapter.nodeId, outbox, lanes, channel };
    this.outbox = new Outbox(outbox);
    this.lanes = new SocketLanes(lanes);
    this.spaces = new DomainSpaces(channel, adapter.memory);
    this.inFlight = new InFlight(adapter);
    this.responder = new NetworkResponder(adapter, this.spaces, (node, frame, payload) => this.reply(node, frame, payload));
    server.on('connection', (s) => this.accepted(s));
    this.tick();
  }

  /** Listen for the other nodes (main thread of a node process). Resolves once the port is bound. */
  static async listen(opts: ListenOptions): Promise<NetworkWire> {
    if (!(opts?.adapter instanceof Adapter)) throw new InvalidArgument('NetworkWire.listen: opts.adapter must be this node\'s Adapter');
    if (typeof opts.host !== 'string' || opts.host === '') throw new InvalidArgument('NetworkWire.listen: opts.host must be the address to listen on');
    if (typeof opts.token !== 'string' || opts.token.length < 8) {
      throw new InvalidArgument('NetworkWire.listen: opts.token must be the job\'s random token (at least 8 characters)');
    }
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const a = server.address();
    const port = typeof a === 'object' && a !== null ? a.port : 0;
    const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
    const onError = opts.onError ?? ((e: NetworkError) => process.stderr.write(`tsmpi: ${e.message}\n`));
    if (opts.pollUs !== undefined && !(opts.pollUs >= 0)) throw new InvalidArgument(`NetworkWire.listen: pollUs must be >= 0, got ${opts.pollUs}`);
    return new NetworkWire(opts.adapter, server, `${host}:${port}`, Buffer.from(opts.token), opts, onError);
  }

  /** Every other node's address. Connections open on first use. */
  connectPeers(peers: PeerAddress[]): void {
    for (const p of peers) {
      if (!Number.isInteger(p?.nodeId) || p.nodeId < 0 || typeof p.address !== 'string' || parseAddress(p.address) === undefined) {
        throw new InvalidArgument(`connectPeers: expected { nodeId, address: "host:port" }, got ${JSON.stringify(p)}`);
      }
      if (p.nodeId !== this.nodeId) this.peers.set(p.nodeId, p.address);
    }
  }

  /**
   * Exact virtual time across processes (see sequencer.ts): from now on operation frames and read
   * data are applied in (virtual time, origin) order, and this node promises its bounds to its peers.
   */
  sequenceBy(sequencer: WireSequencer): void {
    this.sequencer = sequencer;
    this.order = new FrameOrder(sequencer, (id) => this.spaces.announced(id));
    this.promise(sequencer.promises());
    this.kick();
  }

  /**
   * Frames this node sent and received so far. Summed over the nodes they balance only when no
   * frame is on its way: a job is not deadlocked while one is (its receiver may be off its core).
   */
  get frames(): { out: number; in: number } {
    return { out: this.framesOut + this.lanes.written, in: this.framesIn };
  }

  /** Frames held back for virtual-time order (sequenceBy), for reports. */
  get heldFrames(): number {
    return this.order?.waiting ?? 0;
  }

  /** This node's ranks are done: a peer that closes now has the job's end, which reaches us a moment later. */
  ranksDone(): void {
    this.ending = true;
  }

  /** Close every connection and stop listening; operations still waiting complete RETRY_EXCEEDED. */
  async close(): Promise<void> {
    if (this.closed) return;
    // the last word: this node's ranks are done (their bounds are infinite), so the peers need not wait on them
    if (this.sequencer !== undefined) this.promise(this.sequencer.promises(), true);
    this.sendAnswers(this.answers.take());
    this.pump(); // operations the ranks wrote themselves are known before they fail below
    this.closed = true;
    this.outbox.close();
    for (const c of this.conns.values()) c.close();
    this.inFlight.failAll();
    for (const s of this.sockets) s.destroy();
    this.spaces.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /**
   * In a rank thread: the Wire to pass to adapter.openDomain(space, clock, { wire }). `adapter` is
   * this node's adapter attached in the thread (Adapter.attach); QPs of this node connect through
   * it as in one process, QPs of other nodes through the network thread. `origin`: who posts (the
   * world rank), which orders its operations among others' at one virtual time (sequenceBy).
   */
  static attach(handle: NetworkWireHandle, adapter: Adapter, opts: { origin?: number } = {}): Wire {
    return new RankWire(handle, adapter, opts.origin);
  }

  // ---------------------------------------------------------------- the network thread's loop

  /**
   * Move what the ranks wrote to the sockets, then park on the outbox's doorbell
   * (Atomics.waitAsync), which a rank's next record rings. With pollUs, it first keeps polling on
   * every turn of the event loop (setImmediate: sockets are still served in between) until that
   * long has passed without a frame.
   */
  private readonly tick = (): void => {
    this.spinning = false;
    if (this.closed) return;
    const seen = this.outbox.bell;
    const now = performance.now();
    // Bounds are read before the outbox is drained: what a rank posted before its bound rose is
    // then shipped ahead of the promise that says it rose.
    // Answers made so far leave after the promise of bounds read now, which their events lowered.
    const s = this.sequencer;
    const answers = this.answers.take();
    const epoch = s?.epoch() ?? 0;
    const bounds = s?.promises();
    if (this.pump()) this.lastActive = now;
    if (bounds !== undefined) {
      this.promise(bounds);
      this.sendAnswers(answers);
      this.order!.release();
      this.parkOnBounds(epoch);
    }
    if (this.answers.waiting || now - this.lastActive < this.pollMs) {
      this.spinning = true;
      setImmediate(this.tick);
      return;
    }
    if (this.parked) return;
    const woke = this.outbox.waitAsync(seen);
    if (woke === undefined) return this.kick();
    this.parked = true;
    void woke.then(() => {
      this.parked = false;
      this.kick();
    });
  };

  /** Wake the loop when a bound of this node may have risen (a rank published). */
  private parkOnBounds(epoch: number): void {
    if (this.parkedOnBounds || this.closed) return;
    const moved = this.sequencer!.moved(epoch);
    if (moved === undefined) return this.kick();
    this.parkedOnBounds = true;
    void moved.then(() => {
      this.parkedOnBounds = false;
      this.kick();
    });
  }

  /** Send the peers the bounds that changed since the last promise, and what this node relays (sequencer.ts). */
  private promise(bounds: ReadonlyArray<readonly [number, number]>, last = false): void {
    const changed = this.book.changed(bounds);
    for (const node of this.peers.keys()) {
      // with one peer there is no other node to relay (and the last word relays nothing)
      const frame = this.book.frameFor(node, changed, last || this.peers.size < 2 ? NO_RELAY : this.order!.relayFor(node));
      const c = frame === undefined ? undefined : this.to(node);
      if (c === undefined) continue;
      this.framesOut++;
      c.send(frame!);
    }
  }

  private kick(): void {
    this.lastActive = performance.now();
    if (this.spinning || this.closed) return;
    this.spinning = true;
    setImmediate(this.tick);
  }

  /** Copy whole records out of the outbox and forward them; true when anything moved. */
  private pump(): boolean {
    return this.outbox.drain(this.forward);
  }

  /**
   * A record from a rank: remember an operation (by the sequence number its rank gave it), then
   * send it; a NOTE's operation the rank wrote onto the socket itself.
   */
  private readonly forward = (dst: number, frame: Uint8Array[], release: () => void): void => {
    // The fixed header, in one piece (a record streamed across the ring's end may split it).
    const head = frame[0]!.length >= 4 + Op.HEADER ? frame[0]! : Buffer.concat(frame).subarray(0, Math.min(4 + Op.HEADER, total(frame)));
    const type = head[4]!;
    if (type !== FrameType.SEND && type !== FrameType.WRITE && type !== FrameType.READ && type !== FrameType.ATOMIC) {
      // a rank's own answer (a parked send it delivered): its bound, already promised, covers it
      this.framesOut++;
      this.send(dst, frame, undefined, release);
      return;
    }
    const view = new DataView(head.buffer, head.byteOffset + 4, Op.HEADER);
    const seq = view.getFloat64(Op.SEQ, true);
    const p = this.inFlight.describe(view, type);
    if ((dst & NOTE) !== 0) {
      this.inFlight.add(dst & ~NOTE, seq, p);
      return release();
    }
    const c = this.to(dst);
    if (c === undefined) {
      release();
      if (!this.closed) this.onError(new NetworkError('connect', `node ${dst}`, 'is not among the peers given to connectPeers; its operations fail'));
      return this.inFlight.fail(p);
    }
    this.inFlight.add(dst, seq, p);
    this.framesOut++;
    c.send(frame, undefined, release);
  };

  // ---------------------------------------------------------------- connections

  /** The connection to `node`, dialed now if there is none; undefined when the node has no address. */
  private to(node: number): Connection | undefined {
    const c = this.conns.get(node);
    if (c !== undefined) return c;
    const address = this.peers.get(node);
    const at = address === undefined ? undefined : parseAddress(address);
    if (at === undefined || this.closed) return undefined;
    const socket = connect({ host: at.host, port: at.port });
    const conn = this.watch(socket, true, `node ${node} (${address})`);
    conn.peer = node;
    this.conns.set(node, conn);
    socket.once('connect', () => conn.sendNow(this.hello(true)));
    return conn;
  }

  /** An answer of the responder to `node`: under exact timing it waits for the next promise. */
  private reply(node: number, frame: Uint8Array | Uint8Array[], payload?: Uint8Array): void {
    this.framesOut++;
    if (this.order !== undefined) return this.answers.hold(payload === undefined ? { node, frame } : { node, frame, payload });
    this.send(node, frame, payload);
  }

  private sendAnswers(answers: readonly Answer[]): void {
    for (const a of answers) this.send(a.node, a.frame, a.payload);
  }

  /** An answer to `node` (it asked us, so it is connected; a peer gone since loses the answer, as its operations failed). */
  private send(node: number, frame: Uint8Array | Uint8Array[], payload?: Uint8Array, sent?: () => void): void {
    const c = this.to(node);
    if (c === undefined) {
      sent?.();
      if (!this.closed) this.onError(new NetworkError('connect', `node ${node}`, 'has no connection and no address; an answer to it was dropped'));
      return;
    }
    c.send(frame, payload, sent);
  }

  private accepted(socket: Socket): void {
    if (this.closed) return void socket.destroy();
    this.watch(socket, false, `${socket.remoteAddress}:${socket.remotePort}`);
  }

  private watch(socket: Socket, dialed: boolean, label: string): Connection {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    return new Connection(socket, dialed, label, {
      hello: (c, body) => this.greeted(c, body),
      frame: this.inbound,
      closed: (c, problem) => this.lost(c, problem),
    }, this.lanes);
  }

  private hello(accept: boolean): Uint8Array {
    const body = pack({ token: this.token.toString(), node: this.nodeId, accept }) as Uint8Array;
    const w = new FrameWriter(FrameType.HELLO, 1 + body.length);
    w.bytes.set(body, 5);
    return w.bytes;
  }

  /**
   * A HELLO. Both sides check the token. One connection per pair: when both nodes dialed at once,
   * the one dialed by the lower node id stays; the other is refused (accept: false) and the frames
   * queued on it move to the one that stays.
   */
  private greeted(c: Connection, body: Uint8Array): boolean {
    let h: { token?: unknown; node?: unknown; accept?: unknown };
    try {
      h = unpack(body) as typeof h;
    } catch {
      return false;
    }
    const token = Buffer.from(String(h?.token ?? ''));
    if (token.length !== this.token.length || !timingSafeEqual(token, this.token) || !Number.isInteger(h.node)) return false;
    const node = h.node as number;
    if (c.dialed) {
      if (node !== c.peer) return false;
      if (h.accept === false) {
        c.close(); // the peer's own connection to us carries our frames (they wait on this one until it comes)
        return true;
      }
      c.open();
      return true;
    }
    c.peer = node;
    c.label = `node ${node} (${c.label})`;
    const existing = this.conns.get(node);
    if (existing !== undefined && existing.dialed && this.nodeId < node) {
      c.sendNow(this.hello(false));
      c.close();
      return true;
    }
    c.sendNow(this.hello(true));
    if (existing !== undefined && existing !== c) {
      c.queue = existing.takeQueue(); // they were queued first: they go first
      if (existing.ready) existing.close();
    }
    this.conns.set(node, c);
    c.open();
    return true;
  }

  private received(c: Connection, f: FrameReader, payload: Uint8Array[]): void {
    this.framesIn++;
    this.kick();
    // An answer may be to an operation its rank wrote onto the socket itself: its NOTE first.
    if (f.type === FrameType.COMPLETE || f.type === FrameType.READ_DATA) this.pump();
    if (this.order !== undefined && c.peer !== undefined && this.sequenced(c, f, payload)) return;
    if (c.backlog.length > 0) {
      c.backlog.push({ f, payload });
      return;
    }
    const waitFor = this.serve(c, f, payload);
    if (waitFor !== undefined) {
      c.backlog.push({ f, payload });
      this.awaitBacklog(c, waitFor);
    }
  }

  /**
   * A frame that needs a domain this node has not heard of yet (its announcement is still in the
   * event loop's queue) waits, and every later frame of its connection with it, so none is served
   * out of order.
   */
  private awaitBacklog(c: Connection, domainId: number): void {
    this.spaces.announced(domainId).then(() => {
      while (c.backlog.length > 0) {
        const { f, payload } = c.backlog[0]!;
        const waitFor = this.serve(c, f, payload);
        if (waitFor !== undefined) return this.awaitBacklog(c, waitFor);
        c.backlog.shift();
      }
    }, (e: Error) => {
      const dropped = c.backlog.length;
      c.backlog = [];
      this.onError(new NetworkError('frame', c.label, `${e.message}; ${dropped} frame(s) dropped`));
    });
  }

  /** Exact timing: hold an operation or read data for its turn, take a promise; false for what is applied on arrival. */
  private sequenced(c: Connection, f: FrameReader, payload: Uint8Array[]): boolean {
    const order = this.order!;
    const peer = c.peer!;
    switch (f.type) {
      case FrameType.SEND: case FrameType.WRITE: case FrameType.READ: case FrameType.ATOMIC:
        order.hold(f.u32(Op.ORIGIN), f.f64(Op.T0), true, () => this.serve(c, f, payload));
        break;
      case FrameType.READ_DATA: {
        const p = this.inFlight.get(peer, f.f64(Data.SEQ));
        if (p === undefined) return false;
        order.hold(p.origin, p.t0, false, () => this.serve(c, f, payload));
        break;
      }
      case FrameType.PROMISE:
        if (!readPromise(f, (origin, bound) => order.promise(peer, origin, bound))) {
          this.onError(new NetworkError('frame', c.label, 'sent a PROMISE frame whose length disagrees with its count'));
        }
        break;
      default:
        return false;
    }
    order.release();
    return true;
  }

  /** Serve one frame; a domain id when it must wait for that domain's announcement (nothing was done). */
  private serve(c: Connection, f: FrameReader, payload: Uint8Array[]): number | undefined {
    try {
      this.dispatch(f, payload, c.peer!);
    } catch (e) {
      if (e instanceof AwaitAnnouncement) return e.domainId;
      this.onError(new NetworkError('frame', c.label, `a frame of type ${f.type} could not be served: ${(e as Error).message}`));
      this.responder.refuse(f);
    }
    return undefined;
  }

  private dispatch(f: FrameReader, payload: Uint8Array[], peer: number): void {
    {
      switch (f.type) {
        case FrameType.SEND: return this.responder.send(f, payload);
        case FrameType.WRITE: return this.responder.write(f, payload);
        case FrameType.READ: return this.responder.read(f);
        case FrameType.ATOMIC: return this.responder.atomic(f, payload);
        case FrameType.COMPLETE: {
          const bits = this.responder.complete(f);
          // parked at the receiver: its completion now waits on the receiver's post, which the receiver's bound covers
          this.inFlight.answered(peer, f.f64(Done.SEQ), (bits & DoneBits.FINAL) !== 0, (bits & (DoneBits.FINAL | DoneBits.RNR_PARKED)) !== 0);
          return;
        }
        case FrameType.READ_DATA: {
          this.responder.readData(f, payload);
          this.inFlight.answered(peer, f.f64(Data.SEQ), true, true);
          return;
        }
        case FrameType.PROMISE: // without sequenceBy (fast timing) a peer's promises mean nothing here
          return;
      }
    }
  }

  private lost(c: Connection, problem: { reason: 'closed' | 'token' | 'frame'; message: string } | undefined): void {
    if (!this.closed) this.pump(); // every NOTE in, so failPeer below finds each operation
    const node = c.peer;
    const current = node !== undefined && this.conns.get(node) === c;
    if (current && node !== undefined && (c.ready || problem !== undefined)) this.order?.lost(node);
    if (current && (c.ready || problem !== undefined)) this.conns.delete(node);
    if (problem !== undefined && !this.closed && !(this.ending && problem.reason === 'closed')) this.onError(new NetworkError(problem.reason, c.label, problem.message));
    if (current && node !== undefined && (c.ready || problem !== undefined)) this.inFlight.failPeer(node);
  }
}

function total(parts: Uint8Array[]): number {
  return parts.reduce((n, p) => n + p.length, 0);
}
