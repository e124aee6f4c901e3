/**
 * `tsmpi bench`: OSU-style suites and the pin-per-op vs cached-registration study.
 * `benchCommand(argv)` is the whole command (argv = the words after "bench"); it returns the exit
 * status: 0 success, 1 a job failed or a safe configuration delivered stale bytes, 64 bad usage
 * (EX_USAGE, as the rest of `tsmpi`).
 */
const USAGE_EXIT = 64;
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BenchOptions } from './args.js';
import { USAGE, parseBenchArgs } from './args.js';
import { BenchError } from './errors.js';
import { planJobs } from './plan.js';
import { validateReport } from './record.js';
import { chartsOf } from './report/charts.js';
import { renderHtml } from './report/html.js';
import { makeReport, reportJson } from './report/json.js';
import { osuBlocks, osuFileName, osuText } from './report/osu.js';
import { ProgressBar } from './report/progress.js';
import { renderTerminalReport } from './report/table.js';
import { linkFacts, shapeLines } from './report/shapes.js';
import { verdictOf } from './report/verdict.js';
import type { JobRunner } from './study.js';
import { runStudy, totalCells } from './study.js';
import type { StudyResult } from './study.js';

export interface BenchIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const defaultIo: BenchIo = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
};

export async function benchCommand(argv: string[], io: BenchIo = defaultIo): Promise<number> {
  // issue 7: the intra-node transport comparison is its own suite (bench/intranode.ts)
  if (argv[0] === 'intranode') return (await import('./intranode.js')).intranodeCommand(argv.slice(1), io);
  let o: BenchOptions;
  try {
    o = parseBenchArgs(argv);
  } catch (e) {
    return usageFailure(e, io);
  }
  if (o.help) {
    io.stdout(USAGE);
    return 0;
  }
  if (o.check) return checkFile(o.check, io);
  try {
    const { runBenchJob } = await import('./runner.js');
    return await runBench(o, runBenchJob, io, `tsmpi bench ${argv.join(' ')}`.trim());
  } catch (e) {
    if (e instanceof BenchError) {
      io.stderr(`tsmpi bench: ${e.message}\n`);
      return e.code === 'EUSAGE' ? USAGE_EXIT : 1;
    }
    throw e;
  }
}

/** The command with its job runner given: what benchCommand does after parsing. */
export async function runBench(o: BenchOptions, run: JobRunner, io: BenchIo, command: string): Promise<number> {
  const jobs = planJobs(o);
  const bar = new ProgressBar(totalCells(jobs), { enabled: o.progress });
  let result: StudyResult;
  try {
    result = await runStudy(o, run, {
      onProgress: (done, job) => bar.update(done, job),
      onJobDone: (done, job, recs) => {
        const stale = recs.reduce((a, r) => a + r.stale, 0);
        const ms = recs.reduce((a, r) => a + r.wall_ms, 0);
        bar.jobDone(done, job, `${(ms / 1000).toFixed(1)} s${stale > 0 ? `, ${stale} stale` : ''}`);
      },
      onJobFailed: (done, job) => bar.jobDone(done, job, 'FAILED'),
    });
  } finally {
    bar.finish();
  }
  const { records, failures } = result;
  const linkMBps = linkFacts(o.cost)?.linkMBps;
  const report = makeReport(records, command, failures);
  if (!o.study) for (const block of osuBlocks(records)) io.stdout(osuText(block) + '\n');
  const showTables = o.study || o.configs.length > 1;
  if (showTables) io.stdout(renderTerminalReport(records) + '\n');
  const shapes = shapeLines(records, o.cost);
  if (o.study && shapes.length > 0) io.stdout(`published shapes, as modeled:\n  ${shapes.join('\n  ')}\n\n`);
  const verdict = verdictOf(records, failures);
  io.stdout(verdict.text + '\n');

  const written: string[] = [];
  const write = (path: string, text: string): void => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    written.push(path);
  };
  if (o.out) {
    write(join(o.out, 'results.json'), reportJson(report));
    write(join(o.out, 'report.html'), renderHtml(report, { linkMBps, shapes }));
    for (const block of osuBlocks(records)) write(join(o.out, 'osu', osuFileName(block[0]!)), osuText(block));
    for (const c of chartsOf(records, { linkMBps })) write(join(o.out, 'charts', `${c.name}.svg`), c.svg);
  }
  if (o.json) write(o.json, reportJson(report));
  if (written.length > 0) {
    const shown = written.filter((p) => !p.includes('/osu/') && !p.includes('/charts/'));
    const extra = written.length - shown.length;
    io.stdout(`wrote ${shown.join(', ')}${extra > 0 ? ` and ${extra} OSU text files and SVG charts under ${o.out}` : ''}\n`);
  }
  return verdict.ok ? 0 : 1;
}

function checkFile(path: string, io: BenchIo): number {
  try {
    const report: unknown = JSON.parse(readFileSync(path, 'utf8'));
    validateReport(report);
    const v = verdictOf(report.records, report.failures);
    io.stdout(`${path}: schema tsmpi-bench/1 holds for ${report.records.length} records\n${v.text}\n`);
    return v.ok ? 0 : 1;
  } catch (e) {
    io.stderr(`tsmpi bench --check ${path}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

function usageFailure(e: unknown, io: BenchIo): number {
  if (e instanceof BenchError) {
    io.stderr(`tsmpi bench: ${e.message}\n`);
    return USAGE_EXIT;
  }
  throw e;
}

export { parseBenchArgs, USAGE } from './args.js';
export type { BenchOptions } from './args.js';
export type { BenchRecord, BenchReport, Suite } from './record.js';
export { validateRecord, validateReport, RECORD_FIELDS } from './record.js';
export { STUDY_CONFIGS, MIGRATION_CONFIGS, PIN_PER_OP, isSafe } from './configs.js';
export type { Configuration } from './configs.js';
export { BenchError, BenchUsageError, BenchJobError, BenchSchemaError } from './errors.js';
export { verdictOf } from './report/verdict.js';
