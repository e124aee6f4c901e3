import { MpiError, USAGE_EXIT_CODE } from '@tsmpi/mpi';
import { RUN_USAGE } from './args.js';
import { infoText } from './info.js';
import { version } from './version.js';
import { runCommand, type CliIo } from './run.js';
import { benchCommand } from './bench/index.js';
import { traceCommand } from './trace/index.js';

export const USAGE = `usage: tsmpi <command> [...]

commands:
  run -n N [options] prog.ts [args...]   run a program on N ranks (tsmpi run --help)
  bench [study] [suites] [options]       OSU-style benchmarks; the pin-per-op vs cached study (tsmpi bench --help)
  trace summary|view FILE                read a --trace timeline: time split per rank, critical path; HTML view
  info                                   adapters, cache policies, cost presets and defaults
  help                                   this text
  --version                              the version of tsmpi

Exit status: 0 success; 1 a rank failed (an exception, or a node that could not join); the rank's code
for exit(n)/abort(n); 2 deadlock; 64 usage error; 128+N when tsmpi was killed by signal N.`;

/** The `tsmpi` command; returns the exit status (never calls process.exit, so rank output is flushed). */
export async function main(argv: readonly string[], io: CliIo = defaultIo()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'run':
        if (rest[0] === '--help' || rest[0] === '-h') {
          io.out(RUN_USAGE);
          return 0;
        }
        return await runCommand(rest, io);
      case 'bench':
        return await benchCommand(rest, io);
      case 'trace':
        return traceCommand(rest, io);
      case 'info':
        io.out(infoText());
        return 0;
      case '--version': case '-V': case 'version':
        io.out(`tsmpi ${version()}`);
        return 0;
      case undefined: case 'help': case '--help': case '-h':
        io.out(USAGE);
        return command === undefined ? USAGE_EXIT_CODE : 0;
      default:
        io.err(`tsmpi: unknown command '${command}'\n\n${USAGE}`);
        return USAGE_EXIT_CODE;
    }
  } catch (e) {
    if (e instanceof MpiError && e.code === 'TSMPI_USAGE') {
      io.err(`tsmpi: ${e.message}`);
      return USAGE_EXIT_CODE;
    }
    if (e instanceof MpiError && (e.code === 'TSMPI_PMI' || e.code === 'TSMPI_WIREUP')) {
      // A node process that cannot join its job: the message says why; the process manager ends the rest.
      io.err(`tsmpi: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

function defaultIo(): CliIo {
  return {
    out: (s) => process.stdout.write(s + '\n'),
    err: (s) => process.stderr.write(s + '\n'),
    env: process.env,
  };
}
