import { costModel, loadCostModel, presets, type CostModel } from '@tsmpi/fabric';
import { USAGE_EXIT_CODE } from '@tsmpi/mpi';
import type { CliIo } from '../run.js';
import { BenchError, BenchUsageError } from './errors.js';

/**
 * The prologue every `tsmpi bench <name>` sub-command shares: its parsed arguments, or the exit
 * status when there is nothing to run (--help printed: 0; a usage error printed with the usage: 64).
 */
export function subcommandArgs<A>(
  argv: readonly string[], parse: (argv: readonly string[]) => A | 'help', usage: string, name: string, io: CliIo,
): A | number {
  try {
    const parsed = parse(argv);
    if (parsed !== 'help') return parsed;
    io.out(usage);
    return 0;
  } catch (e) {
    if (!(e instanceof BenchError)) throw e;
    io.err(`tsmpi bench ${name}: ${e.message}\n\n${usage}`);
    return USAGE_EXIT_CODE;
  }
}

/** `--cost PRESET|FILE` as a sub-command reads it. */
export function costArg(c: string): CostModel {
  try {
    return c in presets ? costModel(c as keyof typeof presets) : loadCostModel(c);
  } catch (e) {
    throw new BenchUsageError(`--cost ${c}: ${(e as Error).message}; give a preset (${Object.keys(presets).join(', ')}) or a JSON file`);
  }
}
