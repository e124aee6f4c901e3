#!/usr/bin/env node
// The `tsmpi` command. Runs the built CLI (dist/) when it exists; with TSMPI_SOURCE=1, or before the
// first `npm run build`, it runs the TypeScript sources through tsx instead.
import { existsSync } from 'node:fs';
import { register } from 'node:module';

// `tsmpi run ... | head`: a reader that goes away ends the command quietly, as it would a C program.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

const dist = new URL('../dist/main.js', import.meta.url);
const fromSource = process.env.TSMPI_SOURCE === '1' || !existsSync(dist);
if (fromSource) {
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  register(new URL('./source-hooks.mjs', import.meta.url));
}
const { main } = await import(fromSource ? new URL('../src/main.ts', import.meta.url).href : dist.href);
process.exitCode = await main(process.argv.slice(2));
