import type { Socket } from 'node:net';
import { after, type SocketLanes } from './lanes.js';
import { Data, FrameReader, FrameType, LENGTH_BYTES, MAX_BODY_BYTES, MIN_BODY, Op, Operands } from './frames.js';

/** What a connection tells its wire. */
export interface ConnectionEvents {
  /** The first frame, which must be a HELLO; return false to refuse the peer (the connection closes). */
  hello(c: Connection, body: Uint8Array): boolean;
  /** Every later frame, whole: `payload` is the bytes after its fixed header, in the pieces they came in. */
  frame(c: Connection, f: FrameReader, payload: Uint8Array[]): void;
  /** The connection is gone; `problem` says why when it was not closed on purpose. */
  closed(c: Connection, problem: { reason: 'closed' | 'token' | 'frame'; message: string } | undefined): void;
}

/** How long a new connection has to present the job's token. */
const HELLO_TIMEOUT_MS = 10_000;

/**
 * One TCP connection to a peer node process: length-prefixed frames in, frames out. Frames are
 * validated as they are cut (known type, a length its type allows, at most MAX_BODY_BYTES); a
 * frame that cannot be one closes the connection and is reported, it never throws. Until the
 * HELLO exchange is over, frames to send wait in `queue`. Once it is, the socket's lane (lanes.ts)
 * lets rank threads write small frames onto it directly while nothing waits in Node's queue.
 */
export class Connection {
  /** The peer's node id, once its HELLO is in. */
  peer: number | undefined;
  /** Frames waiting for the handshake (or for the connection that replaces this one), with what to call once sent. */
  queue: Array<{ bufs: Uint8Array[]; sent?: () => void }> = [];
  /** Frames written and not yet out of the socket's hands: released if it dies first. */
  private readonly writing = new Set<() => void>();
  /** HELLO exchanged both ways: frames go straight to the socket. */
  ready = false;
  /** Frames received and waiting to be served, in order (see NetworkWire.awaitBacklog). */
  backlog: Array<{ f: FrameReader; payload: Uint8Array[] }> = [];
  /** Closed on purpose (refused duplicate, wire closing): its end is not a failure. */
  quiet = false;
  private greeted = false;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private readonly helloTimer: NodeJS.Timeout;

  /** How errors name the peer: its node id once known, and its address. */
  label: string;

  /** The descriptor this connection published in its lane (open), while it does. */
  private laneFd: number | undefined;
  /** Frames sent this turn of the event loop: they leave together at its end, in one writev. */
  private outgoing: Array<{ bufs: Uint8Array[]; sent?: () => void }> = [];
  private flushing = false;

  constructor(readonly socket: Socket, readonly dialed: boolean, label: string, private readonly events: ConnectionEvents,
    private readonly lanes?: SocketLanes) {
    this.label = label;
    socket.setNoDelay(true);
    // Node closes the descriptor inside _destroy (on errors too): no lane may write it after that.
    const s = socket as unknown as { _destroy(e: Error | null, cb: (e: Error | null) => void): void };
    const destroy = s._destroy;
    s._destroy = (e, cb) => {
      this.shutLane();
      destroy.call(socket, e, cb);
    };
    socket.on('data', (d: Buffer) => this.received(d));
    socket.on('error', (e) => this.end({ reason: 'closed', message: e.message }));
    socket.on('close', () => this.end(this.greeted || this.quiet ? { reason: 'closed', message: 'closed the connection' } : undefined));
    this.helloTimer = setTimeout(() => {
      if (!this.greeted) this.fail('token', `presented no token within ${HELLO_TIMEOUT_MS} ms`);
    }, HELLO_TIMEOUT_MS);
    this.helloTimer.unref();
  }

  /**
   * Send a frame (its pieces, then its payload), or queue it until the connection is ready. `sent`
   * runs once the socket no longer needs the bytes (written, or the connection is gone).
   */
  send(frame: Uint8Array | Uint8Array[], payload?: Uint8Array, sent?: () => void): void {
    const bufs = Array.isArray(frame) ? frame : [frame];
    if (payload !== undefined && payload.length > 0) bufs.push(payload);
    if (!this.ready) {
      this.queue.push(sent === undefined ? { bufs } : { bufs, sent });
      return;
    }
    this.write(bufs, sent);
  }

  private write(bufs: Uint8Array[], sent: (() => void) | undefined): void {
    this.outgoing.push(sent === undefined ? { bufs } : { bufs, sent });
    if (this.flushing) return;
    this.flushing = true;
    process.nextTick(this.flush);
  }

  /** This turn's frames: straight onto the socket when its lane is idle, else through Node's queue. */
  private readonly flush = (): void => {
    this.flushing = false;
    const out = this.outgoing;
    if (out.length === 0) return;
    this.outgoing = [];
    if (this.ended) return out.forEach((o) => o.sent?.());
    const peer = this.peer!;
    if (this.laneFd !== undefined && this.socket.writableLength === 0) {
      const w = this.lanes!.write(peer, out.flatMap((o) => o.bufs));
      if (w.kind === 'busy') { // a rank is in its writev: a few µs
        this.outgoing = out.concat(this.outgoing);
        this.flushing = true;
        setImmediate(this.flush);
        return;
      }
      if (w.kind === 'all') return out.forEach((o) => o.sent?.());
      if (w.kind === 'rest') return this.queueInNode([{ bufs: w.rest, sent: () => out.forEach((o) => o.sent?.()) }]);
    }
    this.queueInNode(out);
  };

  /** Write through Node's queue (the lane, if any, is QUEUED: only this thread writes until it empties). */
  private queueInNode(out: Array<{ bufs: Uint8Array[]; sent?: () => void }>): void {
    const s = this.socket;
    s.cork();
    for (const { bufs, sent } of out) {
      for (let i = 0; i < bufs.length - 1; i++) s.write(bufs[i]!);
      let once = false;
      const done = (): void => {
        if (once) return;
        once = true;
        this.writing.delete(done);
        sent?.();
        this.settle();
      };
      this.writing.add(done);
      s.write(bufs[bufs.length - 1]!, done);
    }
    s.uncork();
  }

  /** Node's queue is empty: rank threads may write directly again. */
  private settle(): void {
    if (this.laneFd !== undefined && this.socket.writableLength === 0 && this.outgoing.length === 0) this.lanes!.settle(this.peer!);
  }

  /** No more direct writes to this socket (it is closing). */
  private shutLane(): void {
    if (this.laneFd === undefined) return;
    this.lanes!.shut(this.peer!, this.laneFd);
    this.laneFd = undefined;
  }

  /** Queued frames move to the connection that replaces this one. */
  takeQueue(): Array<{ bufs: Uint8Array[]; sent?: () => void }> {
    const q = this.queue;
    this.queue = [];
    return q;
  }

  /** Send bytes now, ready or not (the HELLO itself). */
  sendNow(frame: Uint8Array): void {
    this.socket.write(frame, () => this.settle());
  }

  /** Handshake over: flush what waited, and open the socket's lane to the rank threads. */
  open(): void {
    this.ready = true;
    const fd = (this.socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (this.lanes !== undefined && this.peer !== undefined && this.lanes.has(this.peer) && typeof fd === 'number' && fd >= 0) {
      this.lanes.open(this.peer, fd, this.socket.writableLength > 0);
      this.laneFd = fd;
    }
    for (const q of this.takeQueue()) this.write(q.bufs, q.sent);
  }

  /** Close on purpose (its end is not reported as a failure). */
  close(): void {
    this.shutLane();
    this.quiet = true;
    clearTimeout(this.helloTimer);
    this.socket.end();
    this.socket.destroySoon?.();
  }

  /** Close because the peer broke the protocol, and report it. */
  fail(reason: 'token' | 'frame', message: string): void {
    this.end({ reason, message });
    this.socket.destroy();
  }

  private end(problem: { reason: 'closed' | 'token' | 'frame'; message: string } | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.shutLane();
    clearTimeout(this.helloTimer);
    // The socket will not read these bytes any more: give their room back.
    for (const done of [...this.writing]) done();
    this.events.closed(this, this.quiet ? undefined : problem);
  }

  private received(d: Buffer): void {
    if (this.ended) return;
    this.chunks.push(d);
    this.buffered += d.length;
    while (!this.ended && this.buffered >= LENGTH_BYTES) {
      const body = this.peekLength();
      const problem = this.check(body);
      if (problem !== undefined) return this.fail(problem.reason, problem.message);
      if (this.buffered < LENGTH_BYTES + body) return;
      this.deliver(this.take(LENGTH_BYTES + body), body);
    }
  }

  private check(body: number): { reason: 'token' | 'frame'; message: string } | undefined {
    if (!this.greeted && body > 4096) return { reason: 'token', message: `sent ${body} bytes before presenting the job's token` };
    if (body < 1 || body > MAX_BODY_BYTES) return { reason: 'frame', message: `sent a frame of impossible length ${body}` };
    if (this.buffered > LENGTH_BYTES) {
      const type = this.peekByte(LENGTH_BYTES);
      const min = MIN_BODY[type];
      if (min === undefined) return { reason: this.greeted ? 'frame' : 'token', message: `sent a frame of unknown type ${type}` };
      if (body < min) return { reason: 'frame', message: `sent a frame of type ${type} with ${body} bytes (its header alone is ${min})` };
      if (!this.greeted && type !== FrameType.HELLO) return { reason: 'token', message: 'did not present the job\'s token first' };
    }
    return undefined;
  }

  /** A whole frame, as the pieces it arrived in (a large payload is never copied into one buffer here). */
  private deliver(parts: Uint8Array[], body: number): void {
    const type = this.peekIn(parts, LENGTH_BYTES);
    if (!this.greeted) {
      this.greeted = true;
      clearTimeout(this.helloTimer);
      const hello = joinParts(parts).subarray(LENGTH_BYTES + 1, LENGTH_BYTES + body);
      if (!this.events.hello(this, hello)) this.fail('token', 'presented a wrong token');
      return;
    }
    const header = type === FrameType.SEND || type === FrameType.WRITE || type === FrameType.READ || type === FrameType.ATOMIC ? Op.HEADER
      : type === FrameType.READ_DATA ? Data.HEADER : type === FrameType.COMPLETE || type === FrameType.PROMISE ? body : -1;
    if (header < 0) return this.fail('frame', `sent a frame of type ${type} after the handshake`);
    // The fixed header in one piece (a small copy when it straddles two reads).
    const head = parts[0]!.length >= LENGTH_BYTES + header ? parts[0]! : joinParts(parts).subarray(0, LENGTH_BYTES + header);
    const f = new FrameReader(head, LENGTH_BYTES);
    const length = type === FrameType.READ || type === FrameType.COMPLETE || type === FrameType.PROMISE ? 0 : type === FrameType.ATOMIC ? Operands.BYTES
      : f.u32(type === FrameType.READ_DATA ? Data.LENGTH : Op.LENGTH);
    if (header + length !== body) return this.fail('frame', `sent a frame of type ${type} whose length ${body} disagrees with its header`);
    this.events.frame(this, f, after(parts, LENGTH_BYTES + header));
  }

  private peekIn(parts: Uint8Array[], i: number): number {
    for (const p of parts) {
      if (i < p.length) return p[i]!;
      i -= p.length;
    }
    return 0;
  }

  private peekLength(): number {
    let v = 0;
    for (let i = LENGTH_BYTES - 1; i >= 0; i--) v = v * 256 + this.peekByte(i);
    return v;
  }

  private peekByte(i: number): number {
    for (const c of this.chunks) {
      if (i < c.length) return c[i]!;
      i -= c.length;
    }
    return 0;
  }

  /** The next `n` buffered bytes, as views of the chunks they sit in (no copy). */
  private take(n: number): Uint8Array[] {
    this.buffered -= n;
    const out: Uint8Array[] = [];
    while (n > 0) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n);
      out.push(c.subarray(0, k));
      n -= k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}

/** The pieces in one buffer (only small ones are joined: a HELLO, a header split across two reads). */
export function joinParts(parts: Uint8Array[]): Uint8Array {
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
