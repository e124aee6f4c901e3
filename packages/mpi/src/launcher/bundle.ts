import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { UsageError } from '../errors.js';

/** A job's rank code compiled to plain JavaScript, so worker threads load it with no module hooks. */
export interface JobBundle {
  rankMainURL: string;
  programURL: string;
  /** Rewrites bundle positions in a stack trace to the original files (done here, once, on failure). */
  mapStack(stack: string): string;
  dispose(): void;
}

interface EsbuildLike {
  build(opts: Record<string, unknown>): Promise<{ errors: unknown[] }>;
}

/**
 * Compiles the rank runtime and the user's program into one ESM bundle with a shared chunk (so the
 * program's '@tsmpi/mpi' is the very instance the rank runtime set up), once per job, in the
 * launcher's thread. Why: every worker that registers module hooks (tsx) gets its own hooks thread
 * and pushes each of the runtime's ~70 modules through it; with 64 ranks on 2 cores that start-up
 * dominated the job. '@tsmpi/*' resolves from the launcher's own location (with the "source"
 * condition when it runs from src/), so programs anywhere on disk find the runtime.
 *
 * Uses esbuild (tsx's compiler, installed with it); returns undefined if it cannot be loaded, and the
 * caller falls back to registering tsx in every worker. A program that does not compile is a UsageError
 * naming file:line:col.
 */
export async function bundleJob(rankMainURL: string, programURL: string, anchorURL: string, fromSource: boolean): Promise<JobBundle | undefined> {
  let esbuild: EsbuildLike;
  try {
    esbuild = (await import('esbuild' as string)) as EsbuildLike;
  } catch {
    return undefined;
  }
  const outdir = mkdtempSync(join(tmpdir(), 'tsmpi-job-'));
  const anchorDir = dirname(fileURLToPath(anchorURL));
  try {
    await esbuild.build({
      entryPoints: { 'rank-main': fileURLToPath(rankMainURL), program: fileURLToPath(programURL) },
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      outdir,
      outExtension: { '.js': '.mjs' },
      // Separate maps, read only by the launcher when it reports an error: workers parse no maps.
      sourcemap: 'external',
      // Every worker keeps the bundle's source text in its heap (1.2 MB from src/ with its comments):
      // without comments and indentation it is a third of that, per rank. Names are kept (no mangling).
      minifyWhitespace: true,
      logLevel: 'silent',
      conditions: fromSource ? ['source'] : [],
      // msgpackr probes for an optional native addon with require() inside try/catch
      external: ['msgpackr-extract'],
      banner: { js: "import { createRequire as __tsmpiCreateRequire } from 'node:module'; const require = __tsmpiCreateRequire(import.meta.url);" },
      plugins: [
        {
          name: 'tsmpi-runtime',
          setup(b: { onResolve: Function; resolve: Function }) {
            b.onResolve({ filter: /^@tsmpi\// }, async (args: { path: string; kind: string; pluginData?: { inner?: boolean } }) => {
              if (args.pluginData?.inner) return undefined; // our own b.resolve() below
              const r = await b.resolve(args.path, { resolveDir: anchorDir, kind: args.kind, pluginData: { inner: true } });
              return r.errors.length ? undefined : { path: r.path };
            });
          },
        },
      ],
    });
  } catch (e) {
    rmSync(outdir, { recursive: true, force: true });
    const inProgram = programError(e, resolvePath(anchorDir, '../..'));
    if (inProgram) throw inProgram;
    return undefined;
  }
  return {
    rankMainURL: pathToFileURL(join(outdir, 'rank-main.mjs')).href,
    programURL: pathToFileURL(join(outdir, 'program.mjs')).href,
    mapStack: (stack) => mapStack(stack, outdir),
    dispose: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

interface BuildMessage {
  text: string;
  location?: { file: string; line: number; column: number } | null;
}

/**
 * A build failure located in the user's files (not the runtime's, under `runtimeRoot`) as one line,
 * file:line:col and the compiler's text, instead of the bundler's stack from every rank.
 */
function programError(e: unknown, runtimeRoot: string): UsageError | undefined {
  const first = ((e as { errors?: BuildMessage[] }).errors ?? [])[0];
  const at = first?.location;
  if (!first || !at || resolvePath(at.file).startsWith(runtimeRoot)) return undefined;
  // esbuild's columns count from 0; editors and tsc count from 1
  return new UsageError(`${at.file}:${at.line}:${at.column + 1}: ${first.text} (the program does not compile; fix it and run again)`);
}

function mapStack(stack: string, outdir: string): string {
  const maps = new Map<string, SourceMap | undefined>();
  const prefix = pathToFileURL(outdir).href;
  return stack.replace(/(file:\/\/[^\s)]+?\.mjs):(\d+):(\d+)/g, (whole, url: string, line: string, col: string) => {
    if (!url.startsWith(prefix)) return whole;
    if (!maps.has(url)) {
      const file = fileURLToPath(url) + '.map';
      maps.set(url, existsSync(file) ? new SourceMap(JSON.parse(readFileSync(file, 'utf8'))) : undefined);
    }
    const entry = maps.get(url)?.findEntry(Number(line) - 1, Number(col) - 1) as
      | { originalSource?: string; originalLine?: number; originalColumn?: number }
      | undefined;
    if (!entry?.originalSource) return whole;
    // esbuild writes sources relative to the map's directory
    const source = entry.originalSource.startsWith('file:')
      ? fileURLToPath(entry.originalSource)
      : resolvePath(dirname(fileURLToPath(url)), entry.originalSource);
    return `${source}:${entry.originalLine! + 1}:${entry.originalColumn! + 1}`;
  });
}
