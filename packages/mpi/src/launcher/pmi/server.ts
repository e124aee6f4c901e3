import type { Duplex } from 'node:stream';
import { PmiError } from '../../errors.js';
import { PmiReader, PMI_KEY_MAX, PMI_VALUE_MAX, encodeV1, encodeV2, type PmiCommand } from './wire.js';

export interface PmiServerEvents {
  /** A process sent `abort` (PMI-1 or PMI-2): the job must end with `code`. */
  onAbort?(rank: number, code: number, message: string): void;
  /** A process broke the protocol; its connection is closed. */
  onProtocolError?(rank: number, error: PmiError): void;
}

/**
 * tsmpi's own process manager side of PMI (for `tsmpi run --procs`), so the node processes run the
 * very client code they run under Hydra or Slurm. One key-value space for the job; `barrier_in`
 * (PMI-1) and `kvs-fence` (PMI-2) both wait for every process, then answer all of them. It speaks
 * PMI-1, and PMI-2 when a client's first line asks for version 2.
 */
export class PmiServer {
  private readonly kvs = new Map<string, string>();
  private readonly fenced: Array<() => void> = [];
  private readonly sockets = new Set<Duplex>();

  constructor(
    readonly size: number,
    readonly kvsname: string,
    private readonly events: PmiServerEvents = {},
  ) {}

  /** Puts a key before any process starts (the job's token, for instance). */
  preput(key: string, value: string): void {
    this.kvs.set(key, value);
  }

  /** Serves process `rank` on `socket` (the parent's end of the child's PMI_FD). */
  attach(socket: Duplex, rank: number): void {
    this.sockets.add(socket);
    const reader = new PmiReader('v1');
    const reply = (c: PmiCommand) => {
      if (!socket.destroyed) socket.write(reader.framing === 'v1' ? encodeV1(c) : encodeV2(c));
    };
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      reader.push(chunk);
      try {
        for (let c = reader.next(); c; c = reader.next()) this.handle(rank, c, reader, reply);
      } catch (e) {
        const err = e instanceof PmiError ? e : new PmiError(String((e as Error).message));
        this.events.onProtocolError?.(rank, err);
        socket.destroy();
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  private handle(rank: number, c: PmiCommand, reader: PmiReader, reply: (c: PmiCommand) => void): void {
    const a = c.attrs;
    switch (c.cmd) {
      // PMI-1 (and the version handshake of both)
      case 'init': {
        const v2 = a.pmi_version === '2';
        reply({ cmd: 'response_to_init', attrs: { pmi_version: v2 ? '2' : '1', pmi_subversion: v2 ? '0' : '1', rc: '0' } });
        if (v2) reader.framing = 'v2';
        return;
      }
      case 'get_maxes':
        return reply({ cmd: 'maxes', attrs: { kvsname_max: '256', keylen_max: String(PMI_KEY_MAX), vallen_max: String(PMI_VALUE_MAX) } });
      case 'get_universe_size':
        return reply({ cmd: 'universe_size', attrs: { size: String(this.size) } });
      case 'get_appnum':
        return reply({ cmd: 'appnum', attrs: { appnum: '0' } });
      case 'get_my_kvsname':
        return reply({ cmd: 'my_kvsname', attrs: { kvsname: this.kvsname } });
      case 'put':
        this.put(need(a, 'key', c), a.value ?? '');
        return reply({ cmd: 'put_result', attrs: { rc: '0', msg: 'success' } });
      case 'get': {
        const key = need(a, 'key', c);
        const v = this.kvs.get(key);
        return reply(v === undefined
          ? { cmd: 'get_result', attrs: { rc: '-1', msg: `key_${key}_not_found` } }
          : { cmd: 'get_result', attrs: { rc: '0', value: v, msg: 'success' } });
      }
      case 'barrier_in':
        return this.fence(() => reply({ cmd: 'barrier_out', attrs: {} }));
      case 'finalize':
        return reply(reader.framing === 'v1' ? { cmd: 'finalize_ack', attrs: {} } : { cmd: 'finalize-response', attrs: { rc: '0' } });
      // PMI-2
      case 'fullinit':
        return reply({ cmd: 'fullinit-response', attrs: {
          'pmi-version': '2', 'pmi-subversion': '0', rank: String(rank), size: String(this.size), appnum: '0',
          'spawner-jobid': this.kvsname, debugged: 'FALSE', pmiverbose: 'FALSE', rc: '0',
        } });
      case 'job-getid':
        return reply({ cmd: 'job-getid-response', attrs: { jobid: this.kvsname, rc: '0' } });
      case 'kvs-put':
        this.put(need(a, 'key', c), a.value ?? '');
        return reply({ cmd: 'kvs-put-response', attrs: { rc: '0' } });
      case 'kvs-get': {
        const v = this.kvs.get(need(a, 'key', c));
        return reply({ cmd: 'kvs-get-response', attrs: v === undefined ? { found: 'FALSE', rc: '0' } : { found: 'TRUE', value: v, rc: '0' } });
      }
      case 'kvs-fence':
        return this.fence(() => reply({ cmd: 'kvs-fence-response', attrs: { rc: '0' } }));
      case 'abort':
        this.events.onAbort?.(rank, Number(a.exitcode ?? 1) || 1, a.message ?? a.msg ?? '');
        return;
      default:
        throw new PmiError(`process ${rank} sent the unknown PMI command '${c.cmd}'`);
    }
  }

  private put(key: string, value: string): void {
    if (key.length > PMI_KEY_MAX || value.length > PMI_VALUE_MAX) {
      throw new PmiError(`put ${key.slice(0, PMI_KEY_MAX)}: keys hold at most ${PMI_KEY_MAX} characters and values ${PMI_VALUE_MAX}`);
    }
    this.kvs.set(key, value);
  }

  /** Everyone's barrier: the last arrival releases all. */
  private fence(release: () => void): void {
    this.fenced.push(release);
    if (this.fenced.length < this.size) return;
    for (const r of this.fenced.splice(0)) r();
  }
}

function need(attrs: Record<string, string>, name: string, c: PmiCommand): string {
  const v = attrs[name];
  if (v === undefined) throw new PmiError(`PMI ${c.cmd} without ${name}=`);
  return v;
}
