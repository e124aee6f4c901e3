// Entry of every rank's worker thread. Plain JavaScript on purpose: it must load before any TypeScript
// can. execArgv ['--import', 'tsx'] does not work for workers on Node 20, so tsx is registered here
// through its API, then the rank runtime and the user's .ts program are import()ed.
import { workerData, parentPort } from 'node:worker_threads';
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
// Registered after tsx, so it runs first and hands tsx a rewritten specifier context.
register(new URL('./resolve-hooks.mjs', import.meta.url), {
  data: { anchorURL: workerData.anchorURL, programURL: workerData.programURL, source: workerData.source },
});

const { runRank } = await import(workerData.rankMainURL);
await runRank(workerData, parentPort);
