// Worker entry: load TypeScript through tsx, resolve @tsmpi/* to their src/ (the "source"
// export condition, as vitest's aliases do), then run the .ts module named in workerData.
// (execArgv ['--import', 'tsx'] does not work for workers on Node 20.)
import { register } from 'node:module';
import { workerData } from 'node:worker_threads';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
const sourceFirst = `export async function resolve(specifier, context, next) {
  return next(specifier, { ...context, conditions: [...context.conditions, 'source'] });
}`;
register('data:text/javascript,' + encodeURIComponent(sourceFirst));
await import(workerData.entry);
