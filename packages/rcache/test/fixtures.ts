/**
 * Test devices and sources for the cache core: a register/deregister pair that keeps a real table of live
 * registrations (so tests can check leaks and double deregistration) and can run out of lockable memory.
 */
import type { DrainedReports, InvalidationSource, RegistrationOps, SelfTestProbe } from '@tsmpi/rcache';

export const PAGE = 4096;
export const R = 1; // access bits as the tests use them
export const W = 2;
export const RW = 3;

export interface LiveRegistration {
  start: number;
  end: number;
  access: number;
}

export class TestDevice implements RegistrationOps<number> {
  readonly live = new Map<number, LiveRegistration>();
  lockedBytes = 0;
  registerCalls = 0;
  private next = 1;
  /** Lockable bytes (RLIMIT_MEMLOCK); register() beyond it throws an error with code 'ENOMEM'. */
  constructor(readonly memlockLimit = Infinity) {}

  register(start: number, end: number, access: number): number {
    this.registerCalls++;
    if (start % PAGE !== 0 || end % PAGE !== 0 || end <= start) throw new Error(`unaligned range ${start}..${end}`);
    if (this.lockedBytes + (end - start) > this.memlockLimit) {
      throw Object.assign(new Error(`memlock limit ${this.memlockLimit} exceeded`), { code: 'ENOMEM' });
    }
    const h = this.next++;
    this.live.set(h, { start, end, access });
    this.lockedBytes += end - start;
    return h;
  }

  deregister(h: number): void {
    const reg = this.live.get(h);
    if (reg === undefined) throw new Error(`deregister of unknown or already deregistered handle ${h}`);
    this.live.delete(h);
    this.lockedBytes -= reg.end - reg.start;
  }
}

/**
 * A source driven by the test: report(start, end) plays the role of an unmap callback — it only queues the
 * cookies of watched ranges it intersects (each once), exactly what the contract asks of real sources.
 */
export class ManualSource implements InvalidationSource {
  readonly kind = 'hooks' as const;
  readonly watches = new Map<number, { start: number; end: number }>();
  private readonly queue = new Set<number>();
  private next = 1;
  overflowed = false;
  /** When false, the self-test's unmap goes unheard (a hook that failed to install). */
  hears = true;
  capacity = Infinity;

  probe(): SelfTestProbe {
    return { start: 0x7000_0000, end: 0x7000_0000 + PAGE, fire: () => this.hears && this.report(0x7000_0000, 0x7000_0000 + PAGE) };
  }
  watch(start: number, end: number): number {
    const c = this.next++;
    this.watches.set(c, { start, end });
    return c;
  }
  unwatch(cookie: number): void {
    this.watches.delete(cookie);
  }
  report(start: number, end: number): void {
    for (const [c, w] of this.watches) {
      if (w.start < end && start < w.end) {
        if (this.queue.size >= this.capacity && !this.queue.has(c)) this.overflowed = true;
        else this.queue.add(c);
      }
    }
  }
  pending(): boolean {
    return this.queue.size > 0 || this.overflowed;
  }
  drain(): DrainedReports {
    const out = { cookies: [...this.queue], overflowed: this.overflowed, batches: 1 };
    this.queue.clear();
    this.overflowed = false;
    return out;
  }
  get queued(): number {
    return this.queue.size;
  }
  close(): void {}
}
