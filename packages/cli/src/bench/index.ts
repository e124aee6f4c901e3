/**
 * `tsmpi bench`: OSU-style suites and the pin-per-op vs cached-registration study.
 * `benchCommand(argv, io)` is the whole command (argv = the words after "bench"); it returns the
 * exit status: 0 success, 1 a job failed or a safe configuration delivered stale bytes,
 * USAGE_EXIT_CODE (64) bad usage, as the rest of `tsmpi`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { USAGE_EXIT_CODE } from '@tsmpi/mpi';
import type { CliIo } from '../run.js';
import type { BenchOptions } from './args.js';
import { USAGE, parseBenchArgs } from './args.js';
import { BenchError } from './errors.js';
import { planJobs } from './plan.js';
import { validateReport } from './record.js';
import { chartsOf } from './report/charts.js';
import { renderHtml } from './report/html.js';
import { studyTimelines } from '../trace/index.js';
import { makeReport, reportJson } from './report/json.js';
import { osuBlocks, osuFileName, osuText } from './report/osu.js';
import { ProgressBar } from './report/progress.js';
import { renderTerminalReport } from './report/table.js';
import { linkFacts, shapeLines } from './report/shapes.js';
import { verdictOf } from './report/verdict.js';
import type { JobRunner } from './study.js';
import { runStudy, totalCells } from './study.js';
import type { StudyResult } from './study.js';

export async function benchCommand(argv: readonly string[], io: CliIo): Promise<number> {
  // The intra-node transport comparison has its own options and output (intranode.ts).
  if (argv[0] === 'intranode') return (await import('./intranode.js')).intranodeCommand(argv.slice(1), io);
  if (argv[0] === 'rma') return (await import('./rma.js')).rmaCommand(argv.slice(1), io);
  let o: BenchOptions;
  try {
    o = parseBenchArgs(argv);
  } catch (e) {
    return usageFailure(e, io);
  }
  if (o.help) {
    io.out(USAGE.trimEnd());
    return 0;
  }
  if (o.check) return checkFile(o.check, io);
  try {
    const { runBenchJob } = await import('./runner.js');
    return await runBench(o, runBenchJob, io, `tsmpi bench ${argv.join(' ')}`.trim());
  } catch (e) {
    if (e instanceof BenchError) {
      io.err(`tsmpi bench: ${e.message}`);
      return e.code === 'EUSAGE' ? USAGE_EXIT_CODE : 1;
    }
    throw e;
  }
}

/** The command with its job runner given: what benchCommand does after parsing. */
/** What every output of a `--timing fast` run says about itself. */
export const FAST_TIMING_NOTE = 'timing: fast — ranks were not synchronised in virtual time; figures may differ from run to run';

export async function runBench(o: BenchOptions, run: JobRunner, io: CliIo, command: string): Promise<number> {
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
  const report = makeReport(records, command, failures, o.timing);
  if (o.timing === 'fast') io.out(FAST_TIMING_NOTE);
  if (!o.study) for (const block of osuBlocks(records)) io.out(osuText(block, o.timing));
  const showTables = o.study || o.configs.length > 1;
  if (showTables) io.out(renderTerminalReport(records));
  const shapes = shapeLines(records, o.cost);
  if (o.study && shapes.length > 0) io.out(`published shapes, as modeled:\n  ${shapes.join('\n  ')}\n`);
  const verdict = verdictOf(records, failures);
  io.out(verdict.text);

  const written: string[] = [];
  const write = (path: string, text: string): void => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    written.push(path);
  };
  if (o.out) {
    write(join(o.out, 'results.json'), reportJson(report));
    const timelines = o.traceDir ? studyTimelines(o.traceDir) : [];
    write(join(o.out, 'report.html'), renderHtml(report, { linkMBps, shapes, timelines }));
    for (const block of osuBlocks(records)) write(join(o.out, 'osu', osuFileName(block[0]!)), osuText(block, o.timing));
    for (const c of chartsOf(records, { linkMBps })) write(join(o.out, 'charts', `${c.name}.svg`), c.svg);
  }
  if (o.json) write(o.json, reportJson(report));
  if (written.length > 0) {
    const shown = written.filter((p) => !p.includes('/osu/') && !p.includes('/charts/'));
    const extra = written.length - shown.length;
    io.out(`wrote ${shown.join(', ')}${extra > 0 ? ` and ${extra} OSU text files and SVG charts under ${o.out}` : ''}`);
  }
  return verdict.ok ? 0 : 1;
}

function checkFile(path: string, io: CliIo): number {
  try {
    const report: unknown = JSON.parse(readFileSync(path, 'utf8'));
    validateReport(report);
    const v = verdictOf(report.records, report.failures);
    io.out(`${path}: schema tsmpi-bench/1 holds for ${report.records.length} records\n${v.text}`);
    return v.ok ? 0 : 1;
  } catch (e) {
    io.err(`tsmpi bench --check ${path}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

function usageFailure(e: unknown, io: CliIo): number {
  if (e instanceof BenchError) {
    io.err(`tsmpi bench: ${e.message}`);
    return USAGE_EXIT_CODE;
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
