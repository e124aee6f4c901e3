import { createServer, connect, type Server, type Socket } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { WireUpError } from '../../errors.js';
import type { JobFailure, RankResult } from '../job.js';
import { FrameReader, encodeFrame } from './frames.js';

/**
 * The control connection between node k and node 0 (one per node; node 0 serves them). Payloads never
 * travel here, only the job's own life: wire-up of queue pairs, failures, deadlock status, results.
 *
 *   k → 0   hello      first frame, within HELLO_MS: the job's token, the node, the job's hash
 *   0 → k   welcome
 *   k → 0   endpoints  the QP addresses of k's ranks          0 → k   peers     the columns k's ranks need
 *   k → 0   connected                                          0 → k   go
 *   k → 0   status     k's ranks: live, blocked, settled (deadlock.ts), progress fingerprint, the network
 *                      wire's frame counts, each one's wait (every sample period)
 *   k ↔ 0   failure    a rank or node failed: every node tears its ranks down
 *   k → 0   results    k's rank results at the end           0 → k   end       the job's exit code
 */
export type ControlMessage =
  | { t: 'hello'; token: string; node: number; job: string }
  | { t: 'welcome' }
  | { t: 'endpoints'; node: number; endpoints: Record<number, unknown> }
  | { t: 'peers'; rows: unknown[] }
  | { t: 'connected'; node: number }
  | { t: 'go' }
  | { t: 'status'; node: number; live: number; blocked: number; settled: boolean; fingerprint: number;
      framesOut: number; framesIn: number; waits: Array<[number, string]> }
  | { t: 'failure'; failure: JobFailure; code: number; node: number }
  | { t: 'results'; node: number; ranks: RankResult[] }
  | { t: 'end'; exitCode: number };

const KINDS = new Set(['hello', 'welcome', 'endpoints', 'peers', 'connected', 'go', 'status', 'failure', 'results', 'end']);
export const HELLO_MS = 10_000;

/**
 * One framed, typed connection. Messages and the close that arrive before `listen` is called wait
 * for it, so a link can change hands (the hub vets it, the node's role then drives it) without loss.
 */
export class ControlLink {
  private readonly reader: FrameReader;
  private closed = false;
  private closeError: Error | undefined;
  private pending: ControlMessage[] | undefined = [];
  private onMessage: (m: ControlMessage) => void = (m) => this.pending?.push(m);
  private onClose: ((error: Error | undefined) => void) | undefined;

  constructor(readonly socket: Socket, public peer: string) {
    this.reader = new FrameReader(() => this.peer);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.reader.push(chunk);
      try {
        for (let m = this.reader.next(); m !== undefined; m = this.reader.next()) {
          if (this.closed) return;
          this.onMessage(checkMessage(m, this.peer));
        }
      } catch (e) {
        this.close(e as Error);
      }
    });
    socket.on('error', (e) => this.close(new WireUpError(`the control connection to ${this.peer} failed: ${e.message}`)));
    socket.on('close', () => this.close(undefined));
  }

  /** Hands every message (queued ones first) and the close to these handlers from now on. */
  listen(onMessage: (m: ControlMessage) => void, onClose: (error: Error | undefined) => void): void {
    const queued = this.pending ?? [];
    this.pending = undefined;
    this.onMessage = onMessage;
    this.onClose = onClose;
    for (const m of queued) onMessage(m);
    if (this.closed) onClose(this.closeError);
  }

  send(m: ControlMessage): void {
    if (!this.closed) this.socket.write(encodeFrame(m));
  }

  close(error: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.closeError = error;
    // A clean close flushes what was written (the leader's 'end'); a failed link is cut at once.
    if (error) this.socket.destroy();
    else this.socket.end();
    this.onClose?.(error);
  }

  /** Queue again until the next `listen` (the link changes hands). */
  unlisten(): void {
    this.pending = [];
    this.onMessage = (m) => this.pending?.push(m);
    this.onClose = undefined;
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

function checkMessage(m: unknown, peer: string): ControlMessage {
  const t = (m as { t?: unknown } | null)?.t;
  if (typeof t !== 'string' || !KINDS.has(t)) {
    throw new WireUpError(`${peer} sent a control message of unknown type ${JSON.stringify(t)}: connection closed`);
  }
  return m as ControlMessage;
}

export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Node 0's side: listens on `host`, admits exactly one connection per other node that presents the
 * job's token and hash first, and closes every other connection (a warning names where it came from).
 */
export class ControlHub {
  readonly links = new Map<number, ControlLink>();
  private server: Server | undefined;
  address = '';

  constructor(
    private readonly nodes: number,
    private readonly token: string,
    private readonly jobHash: string,
    private readonly warn: (s: string) => void,
  ) {}

  async listen(host: string): Promise<string> {
    const server = createServer((s) => this.admit(s));
    this.server = server;
    await new Promise<void>((ok, no) => {
      server.once('error', no);
      server.listen(0, host, () => ok());
    });
    const a = server.address();
    if (a === null || typeof a === 'string') throw new WireUpError('the control server has no TCP address');
    this.address = `${host.includes(':') ? `[${host}]` : host}:${a.port}`;
    return this.address;
  }

  /** Resolves when every other node has joined; rejects after `ms` naming the missing nodes. */
  joined(ms: number): Promise<void> {
    return new Promise((ok, no) => {
      const check = () => {
        if (this.links.size === this.nodes - 1) {
          clearInterval(timer);
          ok();
        }
      };
      const started = performance.now();
      const timer = setInterval(() => {
        check();
        if (performance.now() - started > ms) {
          clearInterval(timer);
          const missing = Array.from({ length: this.nodes - 1 }, (_, i) => i + 1).filter((n) => !this.links.has(n));
          no(new WireUpError(`node(s) ${missing.join(', ')} never joined node 0's control connection within ${ms} ms`));
        }
      }, 10);
      check();
    });
  }

  stopListening(): void {
    this.server?.close();
  }

  private admit(socket: Socket): void {
    const from = `${socket.remoteAddress}:${socket.remotePort}`;
    const link = new ControlLink(socket, `the connection from ${from}`);
    const refuse = (why: string) => {
      this.warn(`tsmpi: node 0 refused the connection from ${from}: ${why}`);
      link.listen(() => {}, () => {});
      link.close(undefined);
    };
    const timer = setTimeout(() => refuse(`no hello within ${HELLO_MS} ms`), HELLO_MS);
    timer.unref();
    link.listen(
      (m) => {
        clearTimeout(timer);
        if (m.t !== 'hello' || typeof m.token !== 'string' || !sameToken(m.token, this.token)) return refuse("it did not present this job's token");
        if (m.job !== this.jobHash || !Number.isInteger(m.node) || m.node < 1 || m.node >= this.nodes || this.links.has(m.node)) {
          return refuse(`it claims node ${String(m.node)}, which is not a missing node of this job`);
        }
        // Vetted: from now on the node's role drives the link (messages wait for it in the link's queue).
        link.peer = `node ${m.node}`;
        link.unlisten();
        this.links.set(m.node, link);
        link.send({ t: 'welcome' });
      },
      (e) => {
        clearTimeout(timer);
        if (e) this.warn(`tsmpi: node 0 closed the connection from ${from}: ${e.message}`);
      },
    );
  }
}

/** Node k's side: connects to node 0 and presents the token; resolves once welcomed. */
export async function joinControl(address: string, token: string, node: number, jobHash: string): Promise<ControlLink> {
  const m = /^\[?(.*?)\]?:(\d+)$/.exec(address);
  if (!m) throw new WireUpError(`node 0 advertised the control address '${address}', which is not host:port`);
  const socket = connect({ host: m[1]!, port: Number(m[2]) });
  await new Promise<void>((ok, no) => {
    socket.once('connect', ok);
    socket.once('error', (e) => no(new WireUpError(`node ${node} cannot reach node 0 at ${address}: ${e.message}`)));
  });
  const link = new ControlLink(socket, 'node 0');
  await new Promise<void>((ok, no) => {
    link.listen(
      (msg) => (msg.t === 'welcome' ? ok() : no(new WireUpError(`node 0 answered the hello with ${msg.t}`))),
      (e) => no(e ?? new WireUpError(`node 0 closed the control connection of node ${node} at once: the token or the job differ`)),
    );
    link.send({ t: 'hello', token, node, job: jobHash });
  });
  link.unlisten();
  return link;
}
