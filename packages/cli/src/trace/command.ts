import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { UsageError } from '@tsmpi/mpi';
import type { CliIo } from '../run.js';
import { loadTrace } from './load.js';
import { formatSummary, summarize } from './summary.js';
import { timelineHtml } from './view.js';

export const TRACE_USAGE = `usage: tsmpi trace summary FILE [--json]
       tsmpi trace view FILE -o timeline.html

  summary   per rank: compute, communication, registration and waiting time (virtual µs, adding up to
            each rank's wtime()); the largest messages; registration's share; the critical path
  view      a self-contained HTML/SVG timeline (no network), one row per rank, zoomable by time and
            filtered by message size

FILE is what tsmpi run --trace FILE wrote (Chrome trace-event JSON; ui.perfetto.dev opens it too).`;

/** \`tsmpi trace\`: returns the exit status. */
export function traceCommand(argv: readonly string[], io: CliIo): number {
  const [sub, file, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    io.out(TRACE_USAGE);
    return sub === undefined ? 64 : 0;
  }
  if (sub !== 'summary' && sub !== 'view') throw new UsageError(`trace ${sub}: unknown subcommand; use summary or view\n\n${TRACE_USAGE}`);
  if (file === undefined) throw new UsageError(`trace ${sub}: give the trace file (written by tsmpi run --trace FILE)\n\n${TRACE_USAGE}`);
  if (sub === 'summary') {
    const json = rest.includes('--json');
    const unknown = rest.filter((a) => a !== '--json');
    if (unknown.length > 0) throw new UsageError(`trace summary: unknown option ${unknown[0]}\n\n${TRACE_USAGE}`);
    const s = summarize(loadTrace(file));
    io.out(json ? JSON.stringify(s, null, 2) : formatSummary(s));
    return 0;
  }
  const o = rest[0] === '-o' || rest[0] === '--output' ? rest[1] : rest[0]?.startsWith('--output=') ? rest[0].slice(9) : undefined;
  if (o === undefined) throw new UsageError(`trace view: give the page to write with -o timeline.html\n\n${TRACE_USAGE}`);
  writeFileSync(o, timelineHtml(loadTrace(file), `tsmpi timeline: ${basename(file)}`));
  io.err(`tsmpi: timeline written to ${o}`);
  return 0;
}
