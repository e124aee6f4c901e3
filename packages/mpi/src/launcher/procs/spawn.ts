import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:os';
import type { Duplex } from 'node:stream';
import { PmiServer } from '../pmi/server.js';

export interface SpawnNodesOptions {
  /** Node processes to start. */
  nodes: number;
  /** What each runs: a command line for `process.execPath` (e.g. [tsmpi.js, 'run', '-n', '8', 'prog.ts']). */
  argv: string[];
  /** Node flags for those processes (process.execArgv by default: --conditions=source, --import tsx, ...). */
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
  /** Where the launcher's own report lines go (a node that died by a signal); default stderr. */
  report?: (line: string) => void;
  /** How long the others get after SIGTERM before SIGKILL. */
  graceMs?: number;
  /** Take the node processes' stdout and stderr here instead of the terminal (embedding, tests). */
  output?: (text: string, node: number) => void;
  /** Called once every node process has started, with their pids by node. */
  onStart?: (pids: number[]) => void;
}

/** The fd number a node process finds its PMI socket on (Hydra's PMI_FD convention). */
const PMI_FD = 3;
const END_GRACE_MS = 1000;

/**
 * `tsmpi run --procs`: starts `nodes` node processes on this host and serves them a PMI-1 key-value
 * space on an inherited socket (PMI_FD), the way Hydra's proxy does, so the node processes run the
 * same code as under mpiexec. The job's token goes to the nodes from here (TSMPI_JOB_TOKEN); every
 * node listens on 127.0.0.1. When one process dies (a signal, or a non-zero exit while others still
 * run), the others get SIGTERM then SIGKILL: nothing outlives the job. Resolves with the exit status.
 */
export async function spawnNodes(opts: SpawnNodesOptions): Promise<number> {
  const { nodes, argv, execArgv = process.execArgv, env = process.env, report = (s) => process.stderr.write(s + '\n'), graceMs = 500, output, onStart } = opts;
  const children: ChildProcess[] = [];
  let status: number | undefined;
  const server = new PmiServer(nodes, `tsmpi_${process.pid}_${randomBytes(4).toString('hex')}`, {
    onAbort: (rank, code, message) => {
      report(`tsmpi: node ${rank} called PMI abort(${code})${message ? `: ${message}` : ''}`);
      end(code);
    },
    onProtocolError: (rank, e) => {
      report(`tsmpi: node ${rank} broke the PMI protocol: ${e.message}`);
      end(1);
    },
  });
  const token = randomBytes(24).toString('hex');
  let ending = false;
  let killTimer: NodeJS.Timeout | undefined;
  const end = (code: number) => {
    status ??= code;
    if (ending) return;
    ending = true;
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    killTimer = setTimeout(() => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }, graceMs);
  };
  const onSignal = (sig: NodeJS.Signals) => {
    report(`tsmpi: ${sig} received, ending the job's node processes`);
    end(128 + (constants.signals[sig] ?? 15));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const exited: Promise<void>[] = [];
  for (let k = 0; k < nodes; k++) {
    const child = spawn(process.execPath, [...execArgv, ...argv], {
      stdio: output ? ['inherit', 'pipe', 'pipe', 'pipe'] : ['inherit', 'inherit', 'inherit', 'pipe'],
      env: { ...env, PMI_FD: String(PMI_FD), PMI_RANK: String(k), PMI_SIZE: String(nodes), TSMPI_JOB_TOKEN: token, TSMPI_LOCAL_JOB: '1' },
    });
    children.push(child);
    if (output) for (const stream of [child.stdout!, child.stderr!]) stream.setEncoding('utf8').on('data', (t: string) => output(t, k));
    server.attach(child.stdio[PMI_FD] as Duplex, k);
    exited.push(new Promise((done) => {
      child.on('error', (e) => {
        report(`tsmpi: node ${k} could not start: ${e.message}`);
        end(1);
        done();
      });
      child.on('close', (code, signal) => {
        if (signal && !ending) report(`tsmpi: node ${k} (pid ${child.pid}) was killed by ${signal}`);
        if (signal || code !== 0) {
          // The surviving nodes end a failed job together and node 0 reports it (a lost node too: its
          // control connection closes); the others get END_GRACE_MS for that before they are ended.
          status ??= signal ? 128 + (constants.signals[signal] ?? 9) : code ?? 1;
          setTimeout(() => end(status ?? 1), END_GRACE_MS).unref();
        }
        done();
      });
    }));
  }
  onStart?.(children.map((c) => c.pid ?? -1));
  await Promise.all(exited);
  if (killTimer) clearTimeout(killTimer);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  server.close();
  return status ?? 0;
}
