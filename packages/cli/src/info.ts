import { DEFAULT_OPTIONS, FABRICS, RCACHE_POLICIES } from '@tsmpi/mpi';
import { presets } from '@tsmpi/fabric';

/** `tsmpi info`: what this build offers and its defaults. */
export function infoText(): string {
  const d = DEFAULT_OPTIONS;
  const lines = [
    `tsmpi on Node ${process.versions.node} (${process.platform}/${process.arch})`,
    `fabrics:          ${FABRICS.join(', ')} (default ${d.fabric})`,
    `rcache policies:  ${RCACHE_POLICIES.join(', ')} (default ${d.rcache})`,
    `eager threshold:  ${d.eagerThreshold} B`,
    `memory per node:  ${d.memBytes} B; memlock per rank ${d.memlock} B`,
    `deadlock window:  ${d.deadlockMs} ms`,
    `cost presets:`,
  ];
  for (const [name, c] of Object.entries(presets)) {
    lines.push(`  ${name.padEnd(4)} latency ${c.latencyUs} us, overhead ${c.overheadUs} us, bandwidth ${c.bandwidthGBps} GB/s, ` +
      `registration ${c.regBaseUs} us + ${c.regPerPageUs} us/page`);
  }
  return lines.join('\n');
}
