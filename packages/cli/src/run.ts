import { runJob, type JobResult } from '@tsmpi/mpi';
import { parseRunArgs } from './args.js';
import { formatStats } from './stats-table.js';

export interface CliIo {
  out(s: string): void;
  err(s: string): void;
  env: NodeJS.ProcessEnv;
}

/** `tsmpi run`: returns the exit status. */
export async function runCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const cmd = parseRunArgs(argv, io.env);
  const result = await runJob({ np: cmd.np, program: cmd.program, args: cmd.args, ...cmd.options });
  report(result, io);
  if (result.options.stats) io.out(formatStats(result));
  return result.exitCode;
}

function report(result: JobResult, io: CliIo): void {
  const e = result.error;
  if (!e) return;
  if (e.kind === 'deadlock') {
    io.err(`tsmpi: ${e.message}`);
  } else {
    io.err(`tsmpi: ${e.message}`);
    if (e.stack) io.err(indent(e.stack));
  }
  io.err(`tsmpi: job ended with exit code ${result.exitCode}`);
}

function indent(s: string): string {
  return s.split('\n').map((l) => `    ${l}`).join('\n');
}
