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

/** One flag of a sub-command's argv, with readers for the argument that follows it. */
export interface Flag {
  readonly name: string;
  /** The next argument, which the flag needs. */
  value(): string;
  /** The next argument as an integer of at least `min`; `why` ends the complaint. */
  count(min: number, why?: string): number;
}

/** The flags of a sub-command's argv in order; a flag's readers consume its argument. */
export function* eachFlag(argv: readonly string[]): Generator<Flag> {
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new BenchUsageError(`${name} needs a value`);
      return v;
    };
    const count = (min: number, why = ''): number => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < min) throw new BenchUsageError(`${name}: give an integer >= ${min}${why}`);
      return n;
    };
    yield { name, value, count };
  }
}
