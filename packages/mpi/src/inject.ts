import { UsageError } from './errors.js';

/**
 * --inject SPEC: faults the runtime must survive or report, drawn from a seeded generator per rank so
 * that, under exact timing, the same faults hit the same calls in every run. Implemented so far:
 * registration failures (the adapter refuses a user-buffer registration with ENOMEM or EFAULT).
 */
export interface InjectSpec {
  /** Probability that a user-buffer registration fails with ENOMEM (as if the memlock limit were hit). */
  regEnomem: number;
  /** Probability that a user-buffer registration fails with EFAULT (as if its pages were not mapped). */
  regEfault: number;
  seed: number;
}

const KEYS = ['reg-enomem', 'reg-efault', 'seed'] as const;

/** 'reg-enomem:0.1,reg-efault:0.01,seed:7' → InjectSpec; '' → no faults. */
export function parseInject(text: string, what = '--inject'): InjectSpec {
  const spec: InjectSpec = { regEnomem: 0, regEfault: 0, seed: 1 };
  if (text.trim() === '') return spec;
  for (const part of text.split(',')) {
    const [key, value, ...rest] = part.trim().split(':');
    const n = Number(value);
    const bad = (why: string) =>
      new UsageError(`${/^TSMPI_/.test(what) ? `${what}=` : `${what} `}${text}: ${why}; write e.g. reg-enomem:0.1,reg-efault:0.01,seed:7 (faults: ${KEYS.join(', ')})`);
    if (rest.length > 0 || value === undefined || value === '' || !Number.isFinite(n)) throw bad(`'${part}' is not FAULT:VALUE`);
    if (key === 'seed') {
      if (!Number.isSafeInteger(n)) throw bad('the seed must be an integer');
      spec.seed = n;
    } else if (key === 'reg-enomem' || key === 'reg-efault') {
      if (n < 0 || n > 1) throw bad(`the rate of ${key} must be 0 to 1`);
      spec[key === 'reg-enomem' ? 'regEnomem' : 'regEfault'] = n;
    } else {
      throw bad(`unknown fault '${key}'`);
    }
  }
  return spec;
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
  private state: number;

  constructor(private readonly spec: InjectSpec, rank: number) {
    this.state = (spec.seed * 0x9e3779b1 + rank * 0x85ebca6b) >>> 0 || 1;
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
      throw new InjectedFault('ENOMEM', `injected fault reg-enomem (--inject): registering ${range} failed with ENOMEM`);
    }
    if (u < this.spec.regEnomem + this.spec.regEfault) {
      this.injected++;
      throw new InjectedFault('EFAULT', `injected fault reg-efault (--inject): registering ${range} failed with EFAULT`);
    }
  }

  /** xorshift32: small, fast, and the same sequence on every platform. */
  private next(): number {
    let x = this.state;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 2 ** 32;
  }
}
