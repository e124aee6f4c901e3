import { InvalidArgument, UsageError } from './errors.js';

/**
 * Computation on the virtual clock, in the spirit of SimGrid SMPI. A rank's program clock counts
 * three things: the program's own work (compute), the runtime's work on its behalf
 * (communication: send and receive overheads, copies, reductions, polls) and the time it sits
 * until something it waits for has happened (waiting: transfers in flight, late peers).
 *
 * `measured[:FACTOR]` charges the wall time a rank spends outside the runtime, between its calls,
 * × FACTOR (SMPI's default, where host time between MPI calls becomes simulated time);
 * `none` charges nothing, so virtual time depends only on the model (the study, the bench and
 * every exact-clock test use it). `comm.compute(seconds)` charges modelled work in either mode
 * (SMPI's smpi_execute).
 */
export type ComputeMode = { kind: 'none' } | { kind: 'measured'; factor: number };

export const COMPUTE_NONE: ComputeMode = Object.freeze({ kind: 'none' });
export const COMPUTE_MEASURED: ComputeMode = Object.freeze({ kind: 'measured', factor: 1 });

/** `measured`, `measured:FACTOR` (a number > 0) or `none`. */
export function parseCompute(text: string): ComputeMode {
  const s = String(text).trim();
  if (s === 'none') return COMPUTE_NONE;
  const m = /^measured(?::(.+))?$/.exec(s);
  if (m) {
    if (m[1] === undefined) return COMPUTE_MEASURED;
    const factor = Number(m[1]);
    if (Number.isFinite(factor) && factor > 0) return { kind: 'measured', factor };
  }
  throw new UsageError(`--compute: expected 'measured', 'measured:FACTOR' (a number > 0, e.g. measured:0.5) or 'none', got '${s}'`);
}

export function formatCompute(mode: ComputeMode): string {
  return mode.kind === 'none' ? 'none' : mode.factor === 1 ? 'measured' : `measured:${mode.factor}`;
}

/** The clock underneath (@tsmpi/fabric's VirtualClock). */
interface RawClock {
  readonly now: number;
  advance(us: number): unknown;
  advanceTo(t: number): unknown;
  set(t: number): unknown;
}

/** Where a rank's virtual time went, µs; the three add up to the clock. */
export interface TimeSplit {
  computeUs: number;
  communicationUs: number;
  waitingUs: number;
}

/**
 * The program clock of a rank: the clock the engine advances (advance, advanceTo: the runtime's
 * work; idleUntil: waiting for a completion or an arrival), plus compute charges, with a tally of
 * each. A nonblocking
 * collective posts its later rounds at their own virtual time through `runAt`, which puts the
 * clock back after and leaves the tallies alone: that work is the schedule's, not the program's.
 */
export class ProgramClock {
  private computed = 0;
  private waited = 0;
  private detached = 0;
  /** What the clock read when the tallies started (a rank's clock starts at 0). */
  private readonly origin: number;

  constructor(private readonly raw: RawClock) {
    this.origin = raw.now;
  }

  get now(): number {
    return this.raw.now;
  }

  advance(us: number): void {
    this.raw.advance(us);
  }

  advanceTo(t: number): void {
    this.raw.advanceTo(t);
  }

  idleUntil(t: number): void {
    const before = this.raw.now;
    this.raw.advanceTo(t);
    if (this.detached === 0) this.waited += this.raw.now - before;
  }

  /** The program's own work: `us` of virtual time charged as compute. */
  compute(us: number): void {
    if (!(us >= 0) || !Number.isFinite(us)) throw new InvalidArgument('seconds', `compute(): expected a finite number of seconds >= 0, got ${String(us / 1e6)}`);
    this.raw.advance(us);
    if (this.detached === 0) this.computed += us;
  }

  /** Runs `f` with the clock at `t`; returns the clock's reading when f ends and puts the clock back. */
  runAt(t: number, f: () => void): number {
    const programTime = this.raw.now;
    this.detached++;
    this.raw.set(t);
    try {
      f();
      return this.raw.now;
    } finally {
      this.raw.set(programTime);
      this.detached--;
    }
  }

  split(): TimeSplit {
    const total = this.raw.now - this.origin;
    return { computeUs: this.computed, communicationUs: total - this.computed - this.waited, waitingUs: this.waited };
  }
}

/**
 * The boundary between a program and the runtime, for `measured` compute: the outermost call
 * into the runtime charges the wall time since the last one returned (× factor) as compute.
 * Calls nest (a collective calls point-to-point), so only depth 0 ↔ 1 transitions count.
 * Counting starts at the program's first call (what comes before it is mostly module loading,
 * which is no work of the modelled machine).
 */
export class ComputeBoundary {
  private depth = 0;
  private lastExit: number | undefined;

  constructor(private readonly clock: ProgramClock, private readonly factor: number, private readonly wallMs: () => number = () => performance.now()) {}

  enter(): void {
    if (this.depth++ === 0 && this.lastExit !== undefined) {
      this.clock.compute(Math.max(0, this.wallMs() - this.lastExit) * 1000 * this.factor);
    }
  }

  exit(): void {
    if (--this.depth === 0) this.lastExit = this.wallMs();
  }

  /** Wraps the named methods of `proto` (each a runtime entry point) in enter/exit. */
  static instrument(proto: object, names: readonly string[], boundary: () => ComputeBoundary | undefined): void {
    for (const name of names) {
      const d = Object.getOwnPropertyDescriptor(proto, name);
      if (!d || typeof d.value !== 'function' || (d.value as { [kWrapped]?: boolean })[kWrapped]) continue;
      const inner = d.value as (...a: unknown[]) => unknown;
      const outer = function (this: unknown, ...a: unknown[]): unknown {
        const b = boundary();
        if (!b) return inner.apply(this, a);
        b.enter();
        try {
          return inner.apply(this, a);
        } finally {
          b.exit();
        }
      };
      (outer as { [kWrapped]?: boolean })[kWrapped] = true;
      Object.defineProperty(proto, name, { ...d, value: outer });
    }
  }

  /**
   * Wraps a `then` (what `await` calls): inside the runtime from the call until the promise
   * settles, and out again just before the program's continuation runs.
   */
  static instrumentThen(proto: object, boundary: () => ComputeBoundary | undefined): void {
    const d = Object.getOwnPropertyDescriptor(proto, 'then');
    if (!d || typeof d.value !== 'function' || (d.value as { [kWrapped]?: boolean })[kWrapped]) return;
    const inner = d.value as (onFulfilled: (v: unknown) => unknown, onRejected: (e: unknown) => unknown) => unknown;
    const outer = function (this: unknown, onFulfilled?: (v: unknown) => unknown, onRejected?: (e: unknown) => unknown): unknown {
      const b = boundary();
      if (!b) return inner.call(this, onFulfilled!, onRejected!);
      b.enter();
      let inside = true;
      const leave = () => {
        if (inside) b.exit();
        inside = false;
      };
      try {
        return inner.call(
          this,
          (v) => (leave(), onFulfilled ? onFulfilled(v) : v),
          (e) => {
            leave();
            if (onRejected) return onRejected(e);
            throw e;
          },
        );
      } catch (e) {
        leave();
        throw e;
      }
    };
    (outer as { [kWrapped]?: boolean })[kWrapped] = true;
    Object.defineProperty(proto, 'then', { ...d, value: outer });
  }
}

const kWrapped = Symbol('tsmpi.computeBoundary');
