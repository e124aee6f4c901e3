// @tsmpi/cli — the `tsmpi` command (bin/tsmpi.js), usable as a library too.
export { main, USAGE } from './main.js';
export { USAGE_EXIT_CODE } from '@tsmpi/mpi';
export { parseRunArgs, RUN_USAGE } from './args.js';
export { runCommand } from './run.js';
export { formatStats } from './stats-table.js';
export { infoText } from './info.js';

export type { RunCommand } from './args.js';
export type { CliIo } from './run.js';
