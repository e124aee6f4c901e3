/**
 * The progress bar on stderr while the study runs: cells (configuration × pattern × size) done out
 * of the total, the running job, elapsed time and an estimate of what is left. On a terminal it
 * redraws one line; otherwise (CI logs) it prints one line per finished job.
 */
export class ProgressBar {
  private readonly total: number;
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly started = Date.now();
  private done = 0;
  private label = '';
  private lastWidth = 0;
  private readonly enabled: boolean;

  constructor(totalCells: number, opts: { enabled?: boolean; stream?: NodeJS.WriteStream } = {}) {
    this.total = Math.max(1, totalCells);
    this.stream = opts.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
    this.enabled = opts.enabled ?? true;
  }

  /** Cells finished so far (monotonic) and the job running now. */
  update(cellsDone: number, label: string): void {
    if (!this.enabled) return;
    this.done = Math.max(this.done, Math.min(cellsDone, this.total));
    this.label = label;
    if (this.tty) this.draw();
  }

  /** A job finished: on a terminal the bar moves on, in a log one line is printed. */
  jobDone(cellsDone: number, label: string, note = ''): void {
    if (!this.enabled) return;
    this.done = Math.max(this.done, Math.min(cellsDone, this.total));
    if (this.tty) this.draw();
    else this.stream.write(`[${this.done}/${this.total}] ${label} ${note} (${clock(Date.now() - this.started)})\n`);
  }

  finish(): void {
    if (!this.enabled || !this.tty) return;
    this.stream.write(`\r${' '.repeat(this.lastWidth)}\r`);
  }

  private draw(): void {
    const width = 28;
    const frac = this.done / this.total;
    const full = Math.round(frac * width);
    const elapsed = Date.now() - this.started;
    const eta = this.done > 0 ? (elapsed / this.done) * (this.total - this.done) : undefined;
    const cols = this.stream.columns ?? 100;
    let line = `[${'█'.repeat(full)}${'░'.repeat(width - full)}] ${this.done}/${this.total} cells ${clock(elapsed)}` +
      (eta !== undefined ? ` (~${clock(eta)} left)` : '') + `  ${this.label}`;
    if ([...line].length > cols - 1) line = [...line].slice(0, cols - 2).join('') + '…';
    const pad = Math.max(0, this.lastWidth - [...line].length);
    this.stream.write(`\r${line}${' '.repeat(pad)}`);
    this.lastWidth = [...line].length;
  }
}

function clock(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
