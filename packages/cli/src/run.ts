import { fileURLToPath } from 'node:url';
import { UsageError, resolveOptions, runJob, runNode, spawnNodes, underProcessManager, type JobResult } from '@tsmpi/mpi';
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
  if (cmd.procs) {
    resolveOptions(cmd.np, cmd.options); // a usage error is reported once, here, not by every node process
    return runProcs(argv, cmd.args.length, cmd.options.nodes ?? 1, io);
  }
  if (underProcessManager(io.env)) {
    // One node of a multi-process job; node 0 reports for the whole job.
    const node = await runNode({ np: cmd.np, program: cmd.program, args: cmd.args, ...cmd.options, env: io.env, ...(cmd.iface ? { iface: cmd.iface } : {}) });
    if (!node.leader) return node.exitCode;
    report(node, io);
    if (node.options.stats) io.out(formatStats(node));
    return node.exitCode;
  }
  const result = await runJob({ np: cmd.np, program: cmd.program, args: cmd.args, ...cmd.options });
  report(result, io);
  if (result.options.stats) io.out(formatStats(result));
  return result.exitCode;
}

/** `--procs`: this same command line, without --procs, once per node, under tsmpi's own PMI server. */
function runProcs(argv: readonly string[], programArgs: number, nodes: number, io: CliIo): Promise<number> {
  if (underProcessManager(io.env)) throw new UsageError('--procs under a process manager (PMI_FD or PMI_PORT is set): drop --procs, mpiexec or srun already starts one process per node');
  const programAt = argv.length - programArgs - 1;
  const flags = argv.slice(0, programAt);
  const drop = flags.indexOf('--procs');
  const nodeArgv = [...flags.slice(0, drop), ...flags.slice(drop + 1), ...argv.slice(programAt)];
  const bin = fileURLToPath(new URL('../bin/tsmpi.js', import.meta.url));
  return spawnNodes({ nodes, argv: [bin, 'run', ...nodeArgv], env: io.env, report: io.err });
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
