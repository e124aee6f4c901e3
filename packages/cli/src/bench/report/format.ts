/** Number formats shared by the terminal tables, the OSU text and the HTML report. */
export function fmtUs(us: number): string {
  if (us >= 1000) return us.toFixed(0);
  if (us >= 100) return us.toFixed(1);
  return us.toFixed(2);
}

export function fmtRatio(r: number): string {
  if (!Number.isFinite(r) || r <= 0) return '-';
  return `×${r >= 10 ? r.toFixed(1) : r.toFixed(2)}`;
}

export function fmtRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(1)}M`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)}k`;
  return perSecond.toFixed(0);
}

export function fmtPercent(x: number): string {
  return `${(x * 100).toFixed(x >= 0.995 || x === 0 ? 0 : 1)}%`;
}

export function fmtMBps(x: number): string {
  return x >= 100 ? x.toFixed(0) : x.toFixed(2);
}
