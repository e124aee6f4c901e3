import { PmiError } from '../../errors.js';
import { PmiConnection } from './connection.js';
import { PMI_KEY_MAX, PMI_VALUE_MAX } from './wire.js';

/**
 * What a node process needs from its process manager: who it is, and a key-value space with a fence.
 * `put` then `fence` then `get` is the whole wire-up pattern (each node puts its address, all fence,
 * each gets the others'). Both protocol versions give the same face.
 */
export interface PmiClient {
  readonly version: 1 | 2;
  /** This process's rank among the processes the manager started (PMI_RANK). */
  readonly rank: number;
  readonly size: number;
  readonly appnum: number;
  /** The job's key-value space (PMI-1 kvsname, PMI-2 jobid). */
  readonly kvsname: string;
  put(key: string, value: string): Promise<void>;
  /** Commits this process's puts and waits until every process has fenced (PMI-1 barrier). */
  fence(): Promise<void>;
  /** A key another process put before the last fence; rejects with PmiError when absent. */
  get(key: string): Promise<string>;
  /** Asks the manager to end the whole job (it kills every process). */
  abort(code: number, message: string): void;
  finalize(): Promise<void>;
  /** Let the process exit while the connection sits idle during the job. */
  unref(): void;
  /** Drops the connection without finalize (a node that cannot join its job). */
  close(): void;
}

export type PmiVersion = 1 | 2;

/**
 * TSMPI_PMI=1|2, then the connection the manager handed us (PMI_FD or PMI_PORT). The default is PMI-1,
 * except inside a Slurm step, whose PMI_FD (srun --mpi=pmi2) speaks only PMI-2 (Hydra speaks both).
 */
export async function connectPmi(env: NodeJS.ProcessEnv = process.env): Promise<PmiClient> {
  const v = env.TSMPI_PMI ?? (env.SLURM_STEP_ID !== undefined ? '2' : '1');
  if (v !== '1' && v !== '2') throw new PmiError(`TSMPI_PMI=${v}: use 1 (PMI-1, the default) or 2 (PMI-2, e.g. srun --mpi=pmi2)`);
  const conn = await PmiConnection.open(env);
  try {
    return await (v === '1' ? Pmi1Client.start(conn, env) : Pmi2Client.start(conn, env));
  } catch (e) {
    // An open PMI socket would keep this process alive, and the process manager waits for it.
    conn.close();
    throw e;
  }
}

/** True when a process manager started this process (a node of a multi-process job). */
export function underProcessManager(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.PMI_FD !== undefined || env.PMI_PORT !== undefined;
}

function checkKey(key: string, value?: string): void {
  if (key.length === 0 || key.length > PMI_KEY_MAX) throw new PmiError(`PMI key '${key}' must have 1 to ${PMI_KEY_MAX} characters`);
  if (value !== undefined && value.length > PMI_VALUE_MAX) {
    throw new PmiError(`PMI value for '${key}' has ${value.length} characters; the process manager keeps at most ${PMI_VALUE_MAX}`);
  }
}

function intAttr(attrs: Record<string, string>, name: string, what: string): number {
  const n = Number(attrs[name]);
  if (attrs[name] === undefined || !Number.isInteger(n)) throw new PmiError(`${what}: the process manager sent no integer ${name} (got ${JSON.stringify(attrs)})`);
  return n;
}

class Pmi1Client implements PmiClient {
  readonly version = 1;
  private constructor(private readonly conn: PmiConnection, readonly rank: number, readonly size: number, readonly appnum: number, readonly kvsname: string) {}

  static async start(conn: PmiConnection, env: NodeJS.ProcessEnv): Promise<Pmi1Client> {
    let rank = Number(env.PMI_RANK);
    let size = Number(env.PMI_SIZE);
    if (env.PMI_FD === undefined && env.PMI_ID !== undefined) {
      // A PMI_PORT connection says who it is first; the manager answers with our rank and size.
      conn.send({ cmd: 'initack', attrs: { pmiid: env.PMI_ID } });
      for (;;) {
        const c = await conn.next();
        if (c.cmd === 'set' && c.attrs.size !== undefined) size = Number(c.attrs.size);
        if (c.cmd === 'set' && c.attrs.rank !== undefined) rank = Number(c.attrs.rank);
        if (c.cmd === 'set' && c.attrs.debug !== undefined) break;
      }
    }
    await conn.ask({ cmd: 'init', attrs: { pmi_version: '1', pmi_subversion: '1' } }, 'response_to_init');
    if (!Number.isInteger(size) || size < 1) size = intAttr((await conn.ask({ cmd: 'get_universe_size', attrs: {} }, 'universe_size')).attrs, 'size', 'get_universe_size');
    if (!Number.isInteger(rank) || rank < 0 || rank >= size) throw new PmiError(`PMI_RANK=${env.PMI_RANK} is not a rank below PMI_SIZE=${size}`);
    const appnum = intAttr((await conn.ask({ cmd: 'get_appnum', attrs: {} }, 'appnum')).attrs, 'appnum', 'get_appnum');
    const kvsname = (await conn.ask({ cmd: 'get_my_kvsname', attrs: {} }, 'my_kvsname')).attrs.kvsname;
    if (!kvsname) throw new PmiError('get_my_kvsname: the process manager sent no kvsname');
    return new Pmi1Client(conn, rank, size, appnum, kvsname);
  }

  async put(key: string, value: string): Promise<void> {
    checkKey(key, value);
    await this.conn.ask({ cmd: 'put', attrs: { kvsname: this.kvsname, key, value } }, 'put_result');
  }

  async fence(): Promise<void> {
    await this.conn.ask({ cmd: 'barrier_in', attrs: {} }, 'barrier_out');
  }

  async get(key: string): Promise<string> {
    checkKey(key);
    const r = await this.conn.ask({ cmd: 'get', attrs: { kvsname: this.kvsname, key } }, 'get_result');
    if (r.attrs.found === 'FALSE' || r.attrs.found === 'false' || r.attrs.value === undefined) throw new PmiError(`PMI get ${key}: not in the key-value space ${this.kvsname}`);
    return r.attrs.value;
  }

  abort(code: number, message: string): void {
    this.conn.send({ cmd: 'abort', attrs: { exitcode: String(code), message: message.replace(/\s+/g, '_').slice(0, 200) } });
  }

  async finalize(): Promise<void> {
    await this.conn.ask({ cmd: 'finalize', attrs: {} }, 'finalize_ack');
    this.conn.close();
  }

  unref(): void {
    this.conn.unref();
  }

  close(): void {
    this.conn.close();
  }
}

class Pmi2Client implements PmiClient {
  readonly version = 2;
  private constructor(private readonly conn: PmiConnection, readonly rank: number, readonly size: number, readonly appnum: number, readonly kvsname: string) {}

  static async start(conn: PmiConnection, env: NodeJS.ProcessEnv): Promise<Pmi2Client> {
    // The version handshake is a PMI-1 line; everything after it is length-prefixed.
    const init = await conn.ask({ cmd: 'init', attrs: { pmi_version: '2', pmi_subversion: '0' } }, 'response_to_init');
    if (init.attrs.pmi_version !== undefined && init.attrs.pmi_version !== '2') {
      throw new PmiError(`the process manager speaks PMI-${init.attrs.pmi_version}, not PMI-2: unset TSMPI_PMI or set TSMPI_PMI=1`);
    }
    conn.framing = 'v2';
    const pmirank = env.PMI_RANK ?? env.PMI_ID ?? '0';
    // Slurm's pmi2 plugin refuses a fullinit without the job id it put in PMI_JOBID; Hydra ignores it.
    const attrs: Record<string, string> = env.PMI_JOBID === undefined ? { pmirank, threaded: 'FALSE' } : { pmijobid: env.PMI_JOBID, pmirank, threaded: 'FALSE' };
    const r = await conn.ask({ cmd: 'fullinit', attrs }, 'fullinit-response');
    const rank = intAttr(r.attrs, 'rank', 'fullinit');
    const size = intAttr(r.attrs, 'size', 'fullinit');
    const appnum = r.attrs.appnum === undefined ? 0 : intAttr(r.attrs, 'appnum', 'fullinit');
    let jobid = r.attrs['spawner-jobid'] ?? '';
    if (!jobid) jobid = (await conn.ask({ cmd: 'job-getid', attrs: {} }, 'job-getid-response')).attrs.jobid ?? '';
    return new Pmi2Client(conn, rank, size, appnum, jobid);
  }

  async put(key: string, value: string): Promise<void> {
    checkKey(key, value);
    await this.conn.ask({ cmd: 'kvs-put', attrs: { key, value } }, 'kvs-put-response');
  }

  async fence(): Promise<void> {
    await this.conn.ask({ cmd: 'kvs-fence', attrs: {} }, 'kvs-fence-response');
  }

  async get(key: string): Promise<string> {
    checkKey(key);
    const r = await this.conn.ask({ cmd: 'kvs-get', attrs: { jobid: this.kvsname, srcid: '-1', key } }, 'kvs-get-response');
    if (r.attrs.found !== 'TRUE' && r.attrs.found !== 'true') throw new PmiError(`PMI-2 kvs-get ${key}: not in the job's key-value space`);
    return r.attrs.value ?? '';
  }

  abort(code: number, message: string): void {
    this.conn.send({ cmd: 'abort', attrs: { isworld: 'TRUE', exitcode: String(code), msg: message.slice(0, 200) } });
  }

  async finalize(): Promise<void> {
    await this.conn.ask({ cmd: 'finalize', attrs: {} }, 'finalize-response');
    this.conn.close();
  }

  unref(): void {
    this.conn.unref();
  }

  close(): void {
    this.conn.close();
  }
}
