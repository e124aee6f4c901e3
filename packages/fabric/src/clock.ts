import { InvalidArgument } from './errors.js';

export interface VirtualClockHandle {
  kind: 'virtual-clock';
  sab: SharedArrayBuffer;
}

/**
 * A rank's virtual time in microseconds. It lives in a SharedArrayBuffer so the launcher
 * (or a test) can read every rank's clock; only the owner thread advances it.
 */
export class VirtualClock {
  readonly handle: VirtualClockHandle;
  private readonly cell: Float64Array;

  constructor(startUs = 0, handle?: VirtualClockHandle) {
    this.handle = handle ?? { kind: 'virtual-clock', sab: new SharedArrayBuffer(8) };
    this.cell = new Float64Array(this.handle.sab);
    if (handle === undefined) {
      checkTime(startUs, 'startUs');
      this.cell[0] = startUs;
    }
  }

  static attach(handle: VirtualClockHandle): VirtualClock {
    if (handle?.kind !== 'virtual-clock') throw new InvalidArgument('VirtualClock.attach: not a virtual-clock handle');
    return new VirtualClock(0, handle);
  }

  /** Current virtual time, µs. */
  get now(): number {
    return this.cell[0]!;
  }

  /** Spend `us` microseconds; returns the new time. */
  advance(us: number): number {
    checkTime(us, 'advance(us)');
    return (this.cell[0] = this.cell[0]! + us);
  }

  /**
   * Put the clock at `t`, earlier or later. For a device clock that an engine positions at each
   * operation's virtual start (a program's own clock should only advance).
   */
  set(t: number): number {
    checkTime(t, 'set(t)');
    return (this.cell[0] = t);
  }

  /** Move forward to `t` if it is later (an event happening at t was waited for); returns the new time. */
  advanceTo(t: number): number {
    checkTime(t, 'advanceTo(t)');
    if (t > this.cell[0]!) this.cell[0] = t;
    return this.cell[0]!;
  }
}

function checkTime(v: number, what: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new InvalidArgument(`VirtualClock.${what}: expected a finite number of µs >= 0, got ${v}`);
  }
}
