/**
 * A plain-text table: a header row, a rule, right-aligned cells (the first column left-aligned).
 * Widths come from the widest cell; characters like × and µ count as one column.
 */
export function textTable(header: string[], rows: string[][], opts: { leftColumns?: number } = {}): string {
  const left = opts.leftColumns ?? 1;
  const width = (s: string): number => [...s].length;
  const widths = header.map((h, c) => Math.max(width(h), ...rows.map((r) => width(r[c] ?? ''))));
  const pad = (s: string, c: number): string => {
    const gap = ' '.repeat(widths[c]! - width(s));
    return c < left ? s + gap : gap + s;
  };
  const line = (cells: string[]): string => cells.map((s, c) => pad(s, c)).join('  ').trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.map(line)].join('\n');
}
