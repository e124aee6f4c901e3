// Module resolve hook installed in every rank's worker thread (see ../src/launcher/job.ts).
//
// Why: a rank's program may live anywhere on disk (a temp dir, a user's home) and still import
// '@tsmpi/mpi'. Every '@tsmpi/*' specifier is resolved as if imported by the launcher itself, so the
// program gets the very runtime instance that started the rank. When the launcher runs from src/
// (tests, TSMPI_SOURCE=1), the "source" export condition is added so siblings resolve to src/ too,
// never to a possibly stale dist/.
//
// The program itself is ESM: a .ts file outside any package (no package.json "type") would otherwise
// be loaded as CommonJS and fail on its first `import`; it is loaded as a module unless its package
// says "type": "commonjs".
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let anchorURL;
let programURL;
let source = false;

export async function initialize(data) {
  anchorURL = data.anchorURL;
  programURL = data.programURL;
  source = data.source;
}

export async function resolve(specifier, context, nextResolve) {
  if (specifier.startsWith('@tsmpi/')) {
    const conditions = source ? [...new Set([...(context.conditions ?? []), 'source'])] : context.conditions;
    return nextResolve(specifier, { ...context, parentURL: anchorURL, conditions });
  }
  const result = await nextResolve(specifier, context);
  if (result.url === programURL && /\.(ts|tsx)$/.test(result.url) && packageType(result.url) === undefined) {
    return { ...result, format: 'module' };
  }
  return result;
}

function packageType(url) {
  for (let dir = dirname(fileURLToPath(url)); ; dir = dirname(dir)) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        return JSON.parse(readFileSync(pj, 'utf8')).type;
      } catch {
        return undefined;
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}
