import { UsageError } from './errors.js';

/**
 * --inject SPEC: faults the runtime must survive or report. Every draw comes from a seeded generator
 * per rank and every timed fault from the rank's virtual clock, so under exact timing the same
 * faults hit the same calls in every run. Kinds (README, "Fault injection"):
 *   reg-enomem:RATE, reg-efault:RATE  a user-buffer registration fails (ENOMEM, or EFAULT), with that probability;
 *   odp-storm:RATE                    RATE times per virtual ms, every on-demand translation of the rank is
 *                                     invalidated (the pages stay; the adapter re-faults them);
 *   mem-pressure:RATE                 RATE times per virtual ms, the rank's unpinned pages are migrated, then
 *                                     reclaimed to swap (the notifier tells the cache and the ODP tables);
 *   qp-error:T                        at virtual time T µs, one queue pair (seeded: a rank and a peer) is
 *                                     forced into the error state;
 *   link-down:START+LENGTH            every queue pair's link is down for [START, START+LENGTH) virtual µs;
 *   stall:MS                          after each sleep a rank thread stays off its core for MS wall ms, still
 *                                     blocked (a woken thread on a loaded host): wall time only, virtual
 *                                     results do not change; the deadlock detector must not misfire.
 */
export interface InjectSpec {
  /** Probability that a user-buffer registration fails with ENOMEM (as if the memlock limit were hit). */
  regEnomem: number;
  /** Probability that a user-buffer registration fails with EFAULT (as if its pages were not mapped). */
  regEfault: number;
  /** ODP invalidation storms per virtual millisecond, per rank. */
  odpStorm: number;
  /** Memory-pressure sweeps (migrate, then reclaim, the unpinned pages) per virtual millisecond, per rank. */
  memPressure: number;
  /** Virtual µs at which one queue pair is forced into the error state; absent: never. */
  qpErrorAt?: number;
  /** Virtual µs window in which the links are down; absent: never. */
  linkDown?: { start: number; length: number };
  /** Wall ms a rank thread is held after each sleep (a descheduled thread); absent: never. */
  wakeStallMs?: number;
  seed: number;
}

const KEYS = ['reg-enomem', 'reg-efault', 'odp-storm', 'mem-pressure', 'qp-error', 'link-down', 'stall', 'seed'] as const;
const EXAMPLE = 'reg-enomem:0.1,odp-storm:2,mem-pressure:0.5,qp-error:3000,link-down:1000+200,seed:7';

/** 'reg-enomem:0.1,reg-efault:0.01,seed:7' → InjectSpec; '' → no faults. */
export function parseInject(text: string, what = '--inject'): InjectSpec {
  const spec: InjectSpec = { regEnomem: 0, regEfault: 0, odpStorm: 0, memPressure: 0, seed: 1 };
  if (text.trim() === '') return spec;
  for (const part of text.split(',')) {
    const [key, value, ...rest] = part.trim().split(':');
    const bad = (why: string) =>
      new UsageError(`${/^TSMPI_/.test(what) ? `${what}=` : `${what} `}${text}: ${why}; write e.g. ${EXAMPLE} (faults: ${KEYS.join(', ')})`);
    if (rest.length > 0 || value === undefined || value === '') throw bad(`'${part}' is not FAULT:VALUE`);
    if (key === 'link-down') {
      const [start, length, ...more] = value.split('+').map(Number);
      if (more.length > 0 || !(start! >= 0 && length! > 0 && Number.isFinite(start! + length!))) {
        throw bad('link-down takes START+LENGTH in virtual µs, START >= 0 and LENGTH > 0');
      }
      spec.linkDown = { start: start!, length: length! };
      continue;
    }
    const n = Number(value);
    if (!Number.isFinite(n)) throw bad(`'${part}' is not FAULT:VALUE`);
    if (key === 'seed') {
      if (!Number.isSafeInteger(n)) throw bad('the seed must be an integer');
      spec.seed = n;
    } else if (key === 'reg-enomem' || key === 'reg-efault') {
      if (n < 0 || n > 1) throw bad(`the rate of ${key} must be 0 to 1`);
      spec[key === 'reg-enomem' ? 'regEnomem' : 'regEfault'] = n;
    } else if (key === 'odp-storm' || key === 'mem-pressure') {
      if (n < 0 || n > 1000) throw bad(`the rate of ${key} must be 0 to 1000 per virtual ms`);
      spec[key === 'odp-storm' ? 'odpStorm' : 'memPressure'] = n;
    } else if (key === 'qp-error') {
      if (n < 0) throw bad('qp-error takes the virtual µs at which the queue pair fails, >= 0');
      spec.qpErrorAt = n;
    } else if (key === 'stall') {
      if (!Number.isInteger(n) || n < 1 || n > 60_000) throw bad('stall takes the wall ms a woken rank thread is held, an integer 1 to 60000');
      spec.wakeStallMs = n;
    } else {
      throw bad(`unknown fault '${key}'`);
    }
  }
  return spec;
}

/** True when the spec injects anything. */
export function injects(spec: InjectSpec): boolean {
  return spec.regEnomem > 0 || spec.regEfault > 0 || spec.odpStorm > 0 || spec.memPressure > 0 ||
    spec.qpErrorAt !== undefined || spec.linkDown !== undefined;
}

/** An injected failure, shaped as the layer below raises it (a `code`), its message naming the fault. */
export class InjectedFault extends Error {
  constructor(readonly code: 'ENOMEM' | 'EFAULT', message: string) {
    super(message);
    this.name = 'InjectedFault';
  }
}

/** One rank's registration faults: deterministic from (seed, rank) and the order of its registrations. */
export class RegistrationFaults {
  injected = 0;
  /** Told of each fault injected (the rank's fault counts). */
  onInjected: ((code: 'ENOMEM' | 'EFAULT') => void) | undefined;
  private state: number;

  constructor(private readonly spec: InjectSpec, rank: number) {
    this.state = seedState(spec.seed, rank);
  }

  get active(): boolean {
    return this.spec.regEnomem > 0 || this.spec.regEfault > 0;
  }

  /** Throws before a registration of [start, start+length) when the draw says so. */
  beforeRegister(start: number, length: number): void {
    if (!this.active) return;
    const u = this.next();
    const range = `[0x${start.toString(16)}, +${length})`;
    if (u < this.spec.regEnomem) {
      this.injected++;
      this.onInjected?.('ENOMEM');
      throw new InjectedFault('ENOMEM', `injected fault reg-enomem (--inject): registering ${range} failed with ENOMEM`);
    }
    if (u < this.spec.regEnomem + this.spec.regEfault) {
      this.injected++;
      this.onInjected?.('EFAULT');
      throw new InjectedFault('EFAULT', `injected fault reg-efault (--inject): registering ${range} failed with EFAULT`);
    }
  }

    private next(): number {
    const [u, state] = xorshift(this.state);
    this.state = state;
    return u;
  }
}

/** xorshift32: small, fast, and the same sequence on every platform. Returns [uniform in [0, 1), next state]. */
export function xorshift(state: number): [number, number] {
  let x = state;
  x ^= x << 13;
  x >>>= 0;
  x ^= x >>> 17;
  x ^= x << 5;
  x >>>= 0;
  return [x / 2 ** 32, x];
}

/** A seeded state for (seed, rank): every rank draws its own sequence, the same in every run. */
export function seedState(seed: number, rank: number): number {
  return (seed * 0x9e3779b1 + rank * 0x85ebca6b) >>> 0 || 1;
}
