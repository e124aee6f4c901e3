/** The `--json` file: the records plus enough context to know where they came from. */
import { cpus, platform } from 'node:os';
import type { BenchRecord, BenchReport } from '../record.js';

export function makeReport(records: BenchRecord[], command: string, failures: BenchReport['failures'] = [], timing: 'exact' | 'fast' = 'exact'): BenchReport {
  return {
    schema: 'tsmpi-bench/1',
    created: new Date().toISOString(),
    command,
    host: { node: process.version, cpus: cpus().length, platform: platform() },
    timing,
    records,
    failures,
  };
}

export function reportJson(report: BenchReport): string {
  return JSON.stringify(report, null, 1) + '\n';
}
