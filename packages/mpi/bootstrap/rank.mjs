// Entry of every rank's worker thread. Plain JavaScript on purpose: it must load before any TypeScript
// can. execArgv ['--import', 'tsx'] does not work for workers on Node 20, so tsx is registered here
// through its API, then the user's .ts program is import()ed.
//
// Start-up cost matters (64 ranks on 2 cores): module hooks run every later import through a hooks
// thread, so the built runtime (dist/) is imported *before* any hook is registered, and tsx is only
// registered when something still needs it (a TypeScript program, or the runtime running from src/).
import { workerData, parentPort } from 'node:worker_threads';
import { register } from 'node:module';

const trace = (what) => process.env.TSMPI_TRACE && console.error(`[rank ${workerData.rank}] ${what} at ${Date.now() % 100000}`);
trace('bootstrap start');
let runRank;
if (workerData.bundled) {
  // The launcher compiled runtime and program into one bundle: plain JavaScript, no hooks at all
  // (and no source maps to parse: the launcher maps an error's stack when it reports it).
  ({ runRank } = await import(workerData.rankMainURL));
  await runRank(workerData, parentPort);
} else {
  await hooked();
}

/** Fallback without a bundle: tsx and the @tsmpi resolve hook in this worker. */
async function hooked() {
  if (!workerData.source) ({ runRank } = await import(workerData.rankMainURL));
  if (workerData.source || !/\.m?js$/.test(workerData.programURL)) {
    const { register: registerTsx } = await import('tsx/esm/api');
    registerTsx();
}
  // Registered after tsx, so it runs first and hands tsx a rewritten specifier context.
  register(new URL('./resolve-hooks.mjs', import.meta.url), {
    data: { anchorURL: workerData.anchorURL, programURL: workerData.programURL, source: workerData.source },
  });
  trace('hooks registered');
  if (workerData.source) ({ runRank } = await import(workerData.rankMainURL));
  await runRank(workerData, parentPort);
}
