#!/usr/bin/env node
// The `tsmpi` command. Runs the built CLI (dist/) when it exists; with TSMPI_SOURCE=1, or before the
// first `npm run build`, it runs the TypeScript sources through tsx instead.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { register } from 'node:module';

// `tsmpi run ... | head`: a reader that goes away ends the command quietly, as it would a C program.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

const dist = new URL('../dist/main.js', import.meta.url);
const fromSource = process.env.TSMPI_SOURCE === '1' || !existsSync(dist) || staleBuild(dist);
if (fromSource) {
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  register(new URL('./source-hooks.mjs', import.meta.url));
}
const { main } = await import(fromSource ? new URL('../src/main.ts', import.meta.url).href : dist.href);
process.exitCode = await main(process.argv.slice(2));

/**
 * In a checkout, a source edited (or pulled) since the last `npm run build` would otherwise run as the
 * old dist/ (help texts and fixes out of date): then run the sources. An installed package (no
 * monorepo around it) always runs its dist/; this costs it one existsSync.
 */
function staleBuild(built) {
  const packages = new URL('../../', import.meta.url);
  if (!existsSync(new URL('../tsconfig.base.json', packages))) return false; // not the monorepo's checkout
  const builtAt = statSync(built).mtimeMs;
  const newer = (dir) => readdirSync(dir, { withFileTypes: true }).some((e) => {
    const path = `${dir}/${e.name}`;
    return e.isDirectory() ? newer(path) : e.name.endsWith('.ts') && statSync(path).mtimeMs > builtAt;
  });
  return ['vm', 'fabric', 'rcache', 'mpi', 'cli'].some((p) => {
    const src = new URL(`${p}/src`, packages).pathname;
    return existsSync(src) && newer(src);
  });
}
