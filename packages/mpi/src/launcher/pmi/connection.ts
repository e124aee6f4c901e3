import { fstatSync } from 'node:fs';
import { Socket, connect } from 'node:net';
import { PmiError } from '../../errors.js';
import { PmiReader, encodeV1, encodeV2, type Framing, type PmiCommand } from './wire.js';

/**
 * A client's end of the process manager's socket: one query at a time, each answered by one reply
 * (PMI has no pipelining; a barrier's reply simply comes late). The socket is the inherited PMI_FD
 * (Hydra, Slurm, tsmpi --procs) or a TCP connection to PMI_PORT.
 */
export class PmiConnection {
  private readonly reader = new PmiReader('v1');
  private readonly inbox: PmiCommand[] = [];
  private readonly waiting: Array<{ resolve: (c: PmiCommand) => void; reject: (e: Error) => void }> = [];
  private failure: Error | undefined;
  private idleUnref = false;

  private constructor(private readonly socket: Socket, private readonly where: string) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.reader.push(chunk);
      try {
        for (let c = this.reader.next(); c; c = this.reader.next()) {
          const w = this.waiting.shift();
          // A reply may come in several commands at once (initack, then set size/rank/debug): keep the rest.
          if (w) w.resolve(c);
          else this.inbox.push(c);
        }
      } catch (e) {
        this.fail(e as Error);
      }
    });
    socket.on('error', (e) => this.fail(new PmiError(`the PMI connection (${where}) failed: ${e.message}`)));
    socket.on('close', () => this.fail(new PmiError(`the process manager closed the PMI connection (${where})`)));
  }

  /** From the environment a process manager gives its processes: PMI_FD, else PMI_PORT (host:port). */
  static async open(env: NodeJS.ProcessEnv): Promise<PmiConnection> {
    if (env.PMI_FD !== undefined) {
      const fd = Number(env.PMI_FD);
      if (!Number.isInteger(fd) || fd < 0) throw new PmiError(`PMI_FD=${env.PMI_FD} is not a file descriptor number`);
      if (!isSocket(fd)) {
        // Node's child_process passes only stdio on, so a wrapper such as npx loses the manager's socket.
        throw new PmiError(
          `PMI_FD=${fd} is not an open socket in this process: something between the process manager and tsmpi ` +
            '(npx, a Node wrapper) did not pass it on. Start tsmpi directly (mpiexec -n K ./node_modules/.bin/tsmpi run ...), ' +
            'or let Hydra hand out a TCP port instead: mpiexec -pmi-port -n K npx tsmpi run ...',
        );
      }
      return new PmiConnection(new Socket({ fd, readable: true, writable: true }), `PMI_FD=${fd}`);
    }
    if (env.PMI_PORT !== undefined) {
      const m = /^(.*):(\d+)$/.exec(env.PMI_PORT);
      if (!m) throw new PmiError(`PMI_PORT=${env.PMI_PORT} is not host:port`);
      const socket = connect({ host: m[1]!, port: Number(m[2]) });
      await new Promise<void>((ok, no) => {
        socket.once('connect', ok);
        socket.once('error', (e) => no(new PmiError(`cannot reach the process manager at PMI_PORT=${env.PMI_PORT}: ${e.message}`)));
      });
      return new PmiConnection(socket, `PMI_PORT=${env.PMI_PORT}`);
    }
    throw new PmiError('neither PMI_FD nor PMI_PORT is set: start this process under mpiexec, srun --mpi=pmi2 or tsmpi run --procs');
  }

  set framing(f: Framing) {
    this.reader.framing = f;
  }

  get framing(): Framing {
    return this.reader.framing;
  }

  /** Sends one query and resolves with the reply, which must be `expect`; a reply with rc != 0 rejects. */
  async ask(query: PmiCommand, expect: string): Promise<PmiCommand> {
    const reply = this.next();
    this.send(query);
    // A pending reply keeps the process alive even when the idle connection does not (unref).
    this.socket.ref();
    let r: PmiCommand;
    try {
      r = await reply;
    } finally {
      if (this.idleUnref) this.socket.unref();
    }
    if (r.cmd !== expect) throw new PmiError(`PMI ${query.cmd}: expected ${expect} from the process manager, got ${r.cmd}`);
    const rc = r.attrs.rc;
    if (rc !== undefined && rc !== '0') {
      const why = r.attrs.msg ?? r.attrs.errmsg ?? '';
      throw new PmiError(`PMI ${query.cmd} failed with rc=${rc}${why ? `: ${why}` : ''} (${this.where})`);
    }
    return r;
  }

  /** The next command the server sends (for replies that arrive in several commands, as initack's). */
  next(): Promise<PmiCommand> {
    const queued = this.inbox.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  send(c: PmiCommand): void {
    if (this.failure) throw this.failure;
    this.socket.write(this.framing === 'v1' ? encodeV1(c) : encodeV2(c));
  }

  /** Closes our end; the process manager reads EOF after finalize. */
  close(): void {
    this.failure ??= new PmiError(`the PMI connection (${this.where}) is closed`);
    this.socket.end();
    this.socket.unref();
  }

  /** Lets the process exit while the connection is idle (a node keeps it open for the whole job). */
  unref(): void {
    this.idleUnref = true;
    this.socket.unref();
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiting.splice(0)) w.reject(this.failure);
  }
}

function isSocket(fd: number): boolean {
  try {
    return fstatSync(fd).isSocket();
  } catch {
    return false;
  }
}
