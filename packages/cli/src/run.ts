import { fileURLToPath } from 'node:url';
import { UsageError, checkHostCapacity, resolveOptions, runJob, runNode, spawnNodes, underProcessManager, type JobResult } from '@tsmpi/mpi';
import type { OptionLabels } from '@tsmpi/mpi';
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
  // Ranges and what the nodes can hold, before anything starts; named as the user gave them. Under
  // --procs this also means a usage error is reported once, here, not by every node process.
  const resolved = resolveOptions(cmd.np, cmd.options, cmd.labels);
  const oneProcessPerNode = cmd.procs || underProcessManager(io.env);
  checkHostCapacity(oneProcessPerNode ? Math.ceil(cmd.np / resolved.nodes) : cmd.np, cmd.labels);
  if (cmd.trace && oneProcessPerNode) {
    throw new UsageError('--trace runs in one process for now: drop --procs (or run without mpiexec/srun) to record a timeline');
  }
  if (cmd.procs) {
    return runProcs(argv, cmd.args.length, cmd.options.nodes ?? 1, io);
  }
  if (underProcessManager(io.env)) {
    // One node of a multi-process job; node 0 reports for the whole job.
    const node = await runNode({ np: cmd.np, program: cmd.program, args: cmd.args, ...cmd.options, env: io.env, ...(cmd.iface ? { iface: cmd.iface } : {}) });
    if (!node.leader) return node.exitCode;
    report(node, io, cmd.labels);
    if (node.options.stats) io.out(formatStats(node));
    return node.exitCode;
  }
  const result = await runJob({ np: cmd.np, program: cmd.program, args: cmd.args, ...cmd.options, ...(cmd.trace ? { trace: cmd.trace } : {}) });
  report(result, io, cmd.labels);
  if (result.trace) io.err(traceNote(result.trace));
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

function report(result: JobResult, io: CliIo, labels: OptionLabels): void {
  const e = result.error;
  if (!e) return;
  io.err(`tsmpi: ${e.message}`);
  // The stack's first lines repeat the message: print only its frames, so a failure reads once.
  const frames = e.kind === 'deadlock' || !e.stack ? '' : stackFrames(e.stack);
  if (frames) io.err(indent(frames));
  if (e.code === 'ENOMEM' && /physical memory/.test(e.message)) {
    const mem = labels.memBytes ?? '--mem';
    io.err(`tsmpi: each node has ${result.options.memBytes} bytes of physical memory: raise ${mem} (e.g. ${mem === '--mem' ? '--mem ' : `${mem}=`}${Math.ceil((result.options.memBytes * 4) / 2 ** 20)}M)`);
  }
  io.err(`tsmpi: job ended with exit code ${result.exitCode}`);
}

function stackFrames(stack: string): string {
  const lines = stack.split('\n');
  const first = lines.findIndex((l) => /^\s+at /.test(l));
  return first < 0 ? '' : lines.slice(first).join('\n');
}

function indent(s: string): string {
  return s.split('\n').map((l) => `    ${l}`).join('\n');
}

/** Where the timeline went, and a warning when a rank's bounded buffer dropped events. */
function traceNote(t: NonNullable<JobResult['trace']>): string {
  const note = `tsmpi: trace written to ${t.file} (${t.events} events, ${t.flows} messages): open it in ui.perfetto.dev or run tsmpi trace summary ${t.file}`;
  return t.dropped > 0 ? `${note}\ntsmpi: warning: the ranks' trace buffers were full, ${t.dropped} events were dropped (the file's tsmpi_rank_end events say how many per rank)` : note;
}
