// Loads a TypeScript worker under tsx: `execArgv: ['--import', 'tsx']` does not work for
// worker threads on Node 20, so register the loader here and import the .ts file named in
// workerData.script.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.script);
