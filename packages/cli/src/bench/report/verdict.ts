/**
 * The study's verdict: safe configurations must deliver nothing stale and every job must finish;
 * the unsafe configurations' stale counts are shown as findings. `.ci/smoke` and `tsmpi bench study` exit non-zero when `ok` is false.
 */
import type { BenchRecord, BenchReport } from '../record.js';

export interface Verdict {
  ok: boolean;
  /** Safe cells (configuration × pattern × size) that delivered stale bytes. */
  unsafeFailures: BenchRecord[];
  /** Stale deliveries per unsafe configuration × pattern, for the findings lines. */
  findings: { label: string; suite: string; pattern: string; stale: number; messages: number }[];
  /** Jobs that did not finish. */
  failures: BenchReport['failures'];
  text: string;
}

export function verdictOf(records: readonly BenchRecord[], failures: readonly BenchReport['failures'][number][] = []): Verdict {
  const unsafeFailures = records.filter((r) => r.safe && r.stale > 0);
  const byKey = new Map<string, Verdict['findings'][number]>();
  for (const r of records) {
    if (r.safe) continue;
    const k = `${r.suite}|${r.label}|${r.pattern}`;
    const f = byKey.get(k) ?? { label: r.label, suite: r.suite, pattern: r.pattern, stale: 0, messages: 0 };
    f.stale += r.stale;
    f.messages += r.messages;
    byKey.set(k, f);
  }
  const findings = [...byKey.values()];
  const verified = records.reduce((a, r) => a + r.messages, 0);
  const lines: string[] = [];
  if (unsafeFailures.length === 0 && failures.length === 0) {
    lines.push(`OK: ${verified} deliveries verified byte for byte; every safe configuration delivered 0 stale.`);
  } else {
    lines.push(`FAIL: ${verified} deliveries verified byte for byte, but:`);
  }
  if (unsafeFailures.length > 0) {
    lines.push(`  ${unsafeFailures.length} cells of configurations that should be safe delivered stale bytes:`);
    for (const r of unsafeFailures) lines.push(`    ${r.suite} ${r.label} ${r.pattern} size ${r.size}: ${r.stale} stale of ${r.messages}`);
  }
  if (failures.length > 0) {
    lines.push(`  ${failures.length} job${failures.length > 1 ? 's' : ''} did not finish (no records for their cells):`);
    for (const f of failures) lines.push(`    ${f.job}: ${f.message.split('\n')[0]}`);
  }
  if (findings.length > 0) lines.push('not protected (the cache is not told of what these patterns change):');
  for (const f of findings) {
    lines.push(`  ${f.label} under ${f.pattern} (${f.suite}): ${f.stale} stale of ${f.messages} deliveries`);
  }
  return { ok: unsafeFailures.length === 0 && failures.length === 0, unsafeFailures, findings, failures: [...failures], text: lines.join('\n') };
}
