import type { MessagePort } from 'node:worker_threads';
import { JobAborted } from '../errors.js';
import { ControlBlock, RankState } from '../launcher/control-block.js';
import { reportError, type RankToLauncher } from '../launcher/messages.js';
import { setCurrentRank } from './context.js';
import { RankRuntime, isSelfAbort } from './runtime.js';
import type { RankWorkerData } from './worker-data.js';
import { finishTracing } from '../trace/install.js';

/**
 * A rank's life, called by bootstrap/rank.mjs in the rank's worker thread: build the runtime, run
 * the program (its top level, then its exported main(comm) if any), finalize, report.
 */
export async function runRank(wd: RankWorkerData, port: MessagePort): Promise<void> {
  const ctrl = ControlBlock.attach(wd.control);
  ctrl.setState(wd.rank, RankState.RUNNING);
  process.argv[1] = wd.programPath;
  const post = (m: RankToLauncher) => port.postMessage(m);
  let rt: RankRuntime | undefined;
  const T0 = performance.now();
  const trace = (what: string) => process.env.TSMPI_TRACE && console.error(`[rank ${wd.rank}] ${what} +${(performance.now() - T0).toFixed(0)}ms at ${Date.now() % 100000}`);
  try {
    rt = await RankRuntime.create(wd, port, ctrl, trace);
    trace('runtime ready');
    const runtime = rt;
    setCurrentRank({ world: rt.world, setResult: (v) => runtime.setResult(v) });
    const mod = (await import(wd.programURL)) as Record<string, unknown>;
    trace('program imported and top level run');
    const main = typeof mod.main === 'function' ? mod.main : typeof mod.default === 'function' ? mod.default : undefined;
    if (main) {
      const value = await (main as (c: unknown) => unknown)(rt.world);
      if (value !== undefined) rt.setResult(value);
    }
    rt.finalize();
    ctrl.setState(wd.rank, RankState.FINISHED);
    const stats = rt.stats();
    try {
      const trace = finishTracing();
      post({ type: 'done', rank: wd.rank, value: rt.result, stats, wtime: rt.clock.now / 1e6, ...(trace ? { trace } : {}) });
    } catch (e) {
      throw new TypeError(`the rank's result cannot be sent to the launcher (${(e as Error).message}): return plain data`);
    }
  } catch (e) {
    if (e instanceof JobAborted && (isSelfAbort(e) || ctrl.aborted)) {
      ctrl.setState(wd.rank, RankState.FAILED);
      if (!isSelfAbort(e)) post({ type: 'aborted', rank: wd.rank });
      return;
    }
    ctrl.abort(1);
    ctrl.setState(wd.rank, RankState.FAILED);
    const trace = finishTracing();
    post({ type: 'failed', rank: wd.rank, error: reportError(e), ...(rt ? { stats: safeStats(rt) } : {}), ...(trace ? { trace } : {}) });
  } finally {
    setCurrentRank(undefined);
  }
}

function safeStats(rt: RankRuntime) {
  try {
    return rt.stats();
  } catch {
    return undefined;
  }
}
