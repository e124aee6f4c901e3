import { Worker } from 'node:worker_threads';
import { Horizon } from '../timing/horizon.js';
import { HorizonSequencer } from '../timing/wire-sequencer.js';
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createConnectionTable } from '../rank/connections.js';
import { ControlBlock, RankState } from './control-block.js';
import { DeadlockDetector } from './deadlock.js';
import { bundleJob } from './bundle.js';
import { createNodes } from './nodes.js';
import { nodeOfRank } from './placement.js';
import type { ErrorReport, LauncherToRank, RankToLauncher } from './messages.js';
import { DEFAULT_TUNING, applyTuning, tuningFromEnv } from '../collective-tuning.js';
import { resolveOptions, type JobOptions } from '../options.js';
import { sumStats, type JobTotals, type RankStats } from '../stats.js';
import { UsageError } from '../errors.js';
import { parseInject } from '../inject.js';
import type { RankWorkerData } from '../rank/worker-data.js';
import type { NodeRole } from './procs/role.js';
import { traceSettings, writeJobTrace, type JobTraceOption, type JobTraceReport } from '../trace/job.js';
import type { RankTrace } from '../trace/events.js';
import { releaseFinishedJobMemory } from './release-memory.js';
import { checkMappingBudget, rankThreadOptions } from './rank-threads.js';

export interface RunJobOptions extends Partial<JobOptions> {
  /** Number of ranks. */
  np: number;
  /** The program: a path (relative to the current directory) or a file: URL; .ts runs directly. */
  program: string | URL;
  /** Arguments the program sees as process.argv.slice(2). */
  args?: string[];
  /** Collect each rank's stdout and stderr into ranks[i].output instead of printing them. */
  captureOutput?: boolean;
  /** One node of a multi-process job (runNode sets it): run only this node's ranks, coordinated through node 0. */
  role?: NodeRole;
  /** Record a Chrome trace-event timeline and write it to this file at the end (src/trace/). */
  trace?: JobTraceOption;
}

export type RankOutcome = 'finished' | 'failed' | 'aborted' | 'killed';

export interface RankResult {
  rank: number;
  node: number;
  outcome: RankOutcome;
  /** What the program's exported main() returned, or what it passed to setResult(). */
  value?: unknown;
  stats?: RankStats;
  /** Virtual seconds at the end of the rank. */
  wtime?: number;
  output?: string;
  /** The rank's trace buffer (runJob's `trace`), until the launcher writes the file. */
  trace?: RankTrace;
}

export interface JobFailure {
  kind: 'exception' | 'exit' | 'abort' | 'deadlock';
  /** The rank that failed first (absent for a deadlock). */
  rank?: number;
  message: string;
  stack?: string;
  code?: string;
  /** For a deadlock: what each rank was waiting for. */
  waits?: string[];
}

export interface JobResult {
  /** 0 on success; 1 if a rank threw; the rank's code for exit(n) / abort(n); 2 for a deadlock. */
  exitCode: number;
  ranks: RankResult[];
  error?: JobFailure;
  totals: JobTotals;
  options: JobOptions;
  wallMs: number;
  /** Queue pairs created on each node's adapter (this process's nodes; 0 for the others): connections are made on first use. */
  queuePairs?: number[];
  /** The trace file written (runJob's `trace`), with its event counts. */
  trace?: JobTraceReport;
}

export const DEADLOCK_EXIT_CODE = 2;

/**
 * Runs a program on `np` ranks (worker threads) of this process and resolves when every rank is gone.
 * Rejects only for bad options (UsageError); a failing program resolves with exitCode != 0 and `error`.
 */
export async function runJob(opts: RunJobOptions): Promise<JobResult> {
  const started = performance.now();
  const { np, program, args = [], captureOutput = false, role, trace, ...rest } = opts;
  const traceWith = trace === undefined ? undefined : traceSettings(trace);
  // Workers inherit the environment, so the TSMPI_COLL_* variables always reached every rank: they
  // still apply when the caller gives no collectiveTuning.
  const envTuning = tuningFromEnv(process.env);
  const options = resolveOptions(np, { ...(envTuning ? { collectiveTuning: applyTuning(DEFAULT_TUNING, envTuning) } : {}), ...rest });
  const programURL = toProgramURL(program);
  const localCount = role ? role.localRanks.length : np;
  checkMappingBudget(localCount);
  // A node of a multi-process job created its own node (and network wire) before wiring up.
  if (!role) releaseFinishedJobMemory();
  const nodes = role?.ownNode ?? createNodes(np, options);
  const ctrl = ControlBlock.create(np);
  ctrl.wakeStallMs = parseInject(options.inject).wakeStallMs ?? 0;
  const horizon = options.timing === 'exact' ? Horizon.create(np) : undefined;
  // A node process: its network wire orders the other nodes' operations among this node's ranks
  // and mirrors the other nodes' ranks in this horizon (exact timing across processes).
  if (horizon && role?.wire) {
    const adapter = role.ownNode.adapters[role.node]!;
    const view = Horizon.attach(horizon, (rank, cq) => (role.localRanks.includes(rank) ? adapter.completionWatermark(cq) : Infinity));
    role.wire.sequenceBy(new HorizonSequencer(view, role.localRanks));
  }

  const here = import.meta.url;
  const fromSource = here.endsWith('.ts');
  const base: Omit<RankWorkerData, 'rank' | 'node'> = {
    size: np,
    options,
    cost: nodes.cost,
    programURL,
    programPath: fileURLToPath(programURL),
    control: ctrl.handle,
    connections: createConnectionTable(np),
    ...(horizon ? { horizon } : {}),
    nodes: nodes.handles,
    anchorURL: here,
    source: fromSource,
    rankMainURL: new URL(`../rank/main.${fromSource ? 'ts' : 'js'}`, here).href,
    oversubscribed: localCount > availableParallelism(),
    bundled: false,
    ...(role?.network ? { network: role.network } : {}),
    ...(traceWith ? { trace: traceWith.settings } : {}),
  };
  const bundle = process.env.TSMPI_NO_BUNDLE ? undefined : await bundleJob(base.rankMainURL, programURL, here, fromSource);
  if (bundle) Object.assign(base, { rankMainURL: bundle.rankMainURL, programURL: bundle.programURL, bundled: true });

  const mapped = (e: ErrorReport): ErrorReport => (bundle && e.stack ? { ...e, stack: bundle.mapStack(e.stack) } : e);
  const ranks: RankResult[] = [];
  const workers: Worker[] = [];
  const endpoints: unknown[] = new Array(np);
  let ready = 0;
  let connected = 0;
  let error: JobFailure | undefined;
  let exitCode = 0;
  let tearingDown = false;

  const teardown = () => {
    if (tearingDown) return;
    tearingDown = true;
    detector.stop();
    for (const w of workers) void w.terminate();
  };
  const fail = (failure: JobFailure, code: number) => {
    if (!error) {
      error = failure;
      exitCode = code;
      role?.failed(failure, code);
    }
    ctrl.abort(code);
    teardown();
  };

  const onDeadlock = (waits: string[]) =>
    fail(
      {
        kind: 'deadlock',
        message:
          `deadlock: every rank is blocked and nothing has moved for ${options.deadlockMs} ms\n  ` + waits.join('\n  '),
        waits,
      },
      DEADLOCK_EXIT_CODE,
    );
  // under exact timing a waiting rank's published bound rising is progress too (a rank held back by it moves on)
  const bounds = horizon ? Horizon.attach(horizon, () => Infinity) : undefined;
  const boundOf = bounds ? (r: number) => bounds.bound(r) : undefined;
  const detector = new DeadlockDetector(ctrl, options.deadlockMs, onDeadlock, boundOf ? { boundOf } : {});
  role?.onAbort(fail);

  const threadOptions = rankThreadOptions(base.oversubscribed, base.bundled);
  const exited = new Array<Promise<void>>(np);
  for (let rank = 0; rank < np; rank++) {
    const node = nodeOfRank(rank, np, options.nodes);
    if (role && node !== role.node) continue;
    const result: RankResult = { rank, node, outcome: 'killed' };
    ranks.push(result);
    const data: RankWorkerData = { ...base, rank, node };
    const worker = new Worker(new URL('../../bootstrap/rank.mjs', here), {
      workerData: data,
      argv: args,
      stdout: captureOutput,
      stderr: captureOutput,
      ...threadOptions,
    });
    workers.push(worker);
    if (captureOutput) {
      result.output = '';
      worker.stdout.setEncoding('utf8').on('data', (s: string) => (result.output += s));
      worker.stderr.setEncoding('utf8').on('data', (s: string) => (result.output += s));
    }
    worker.on('message', (m: RankToLauncher) => {
      switch (m.type) {
        case 'ready':
          endpoints[m.rank] = m.endpoint;
          if (++ready === localCount) {
            // Each rank gets only its column: every peer's QP address toward it (np, not np², clones).
            const hand = (rows: unknown[]) =>
              workers.forEach((w, i) => {
                const r = ranks[i]!.rank;
                const peers: LauncherToRank = { type: 'peers', endpoints: rows.map((e) => (e as unknown[])[r]) };
                w.postMessage(peers);
              });
            if (role) void role.exchange(endpoints).then(hand);
            else hand(endpoints);
          }
          break;
        case 'connected':
          if (++connected === localCount) {
            const go = () => { for (const w of workers) w.postMessage({ type: 'go' } satisfies LauncherToRank); };
            if (role) void role.allConnected().then(go);
            else go();
          }
          break;
        case 'done':
          result.outcome = 'finished';
          result.value = m.value;
          result.stats = m.stats;
          result.wtime = m.wtime;
          if (m.trace) result.trace = m.trace;
          break;
        case 'failed':
          result.outcome = 'failed';
          if (m.stats) result.stats = m.stats;
          if (m.trace) result.trace = m.trace;
          fail(failureOf('exception', m.rank, mapped(m.error)), 1);
          break;
        case 'aborted':
          result.outcome = 'aborted';
          break;
        case 'abort':
          result.outcome = 'failed';
          fail({ kind: 'abort', rank: m.rank, message: `rank ${m.rank} called abort(${m.code}): ${m.message}` }, m.code);
          break;
      }
    });
    worker.on('error', (e) => {
      result.outcome = 'failed';
      fail(failureOf('exception', rank, mapped(errorReportOf(e))), 1);
    });
    exited[rank] = new Promise((done) =>
      worker.on('exit', (code) => {
        // 'aborted': this rank saw the abort flag another rank raised; that rank reports the cause.
        if (!tearingDown && result.outcome === 'killed') {
          result.outcome = 'failed';
          fail({ kind: 'exit', rank, message: `rank ${rank} exited with code ${code} before finishing` }, code || 1);
        } else if (!tearingDown && code !== 0) {
          fail({ kind: 'exit', rank, message: `rank ${rank} exited with code ${code}` }, code);
        }
        ctrl.setState(rank, result.outcome === 'finished' ? RankState.FINISHED : RankState.FAILED);
        done();
      }),
    );
  }
  if (role) role.watchDeadlock(ctrl, options.deadlockMs, onDeadlock, boundOf);
  else detector.start();
  await Promise.all(exited);
  detector.stop();
  nodes.close();
  bundle?.dispose();

  if (!error && ctrl.aborted) {
    error = { kind: 'abort', message: `the job was aborted with code ${ctrl.abortCode} and no rank reported why` };
    exitCode = ctrl.abortCode || 1;
  }
  // A node of a multi-process job: node 0 gathers every node's ranks and the job's first failure.
  const whole = role ? await role.finish({ ranks, ...(error ? { error } : {}), exitCode }) : { ranks, error, exitCode };
  ({ error, exitCode } = whole);
  const stats = whole.ranks.flatMap((r) => (r.stats ? [r.stats] : []));
  const traced = traceWith && !role?.node ? writeJobTrace(traceWith.file, whole.ranks) : undefined;
  return {
    exitCode,
    ranks: whole.ranks,
    ...(error ? { error } : {}),
    totals: sumStats(stats),
    options,
    wallMs: performance.now() - started,
    queuePairs: nodes.adapters.map((a) => a?.queuePairsCreated ?? 0),
    ...(traced ? { trace: traced } : {}),
  };
}

export function toProgramURL(program: string | URL): string {
  const url = program instanceof URL ? program : program.startsWith('file:') ? new URL(program) : pathToFileURL(resolvePath(program));
  if (url.protocol !== 'file:') throw new UsageError(`program ${url.href}: only local files can run as ranks`);
  if (!existsSync(fileURLToPath(url))) {
    throw new UsageError(`program ${fileURLToPath(url)} does not exist: check the path (it is relative to ${process.cwd()})`);
  }
  return url.href;
}

function failureOf(kind: JobFailure['kind'], rank: number, e: ErrorReport): JobFailure {
  return {
    kind,
    rank,
    message: `rank ${rank} failed: ${e.name}: ${e.message}`,
    ...(e.stack ? { stack: e.stack } : {}),
    ...(e.code ? { code: e.code } : {}),
  };
}

function errorReportOf(e: unknown): ErrorReport {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return { name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}), ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'Error', message: String(e) };
}
