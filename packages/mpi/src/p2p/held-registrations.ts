import type { RegistrationPort, RegistrationProviderPort } from './ports.js';

interface Held {
  addr: number;
  end: number;
  reg: RegistrationPort;
  /** acquires answered from this registration and not yet released */
  lent: number;
}

/**
 * Registrations a persistent operation holds from its init to its free (MPI-4 persistent
 * collectives): an acquire inside a held range is answered with the held registration, without
 * asking the cache, so later starts register nothing and touch no cache counter. Everything else
 * goes to the cache as before. Installed in front of a rank's cache by the first persistent
 * collective (holdingCache), so ranks that never use one run exactly as without it.
 */
export class HeldRegistrations implements RegistrationProviderPort {
  private readonly held: Held[] = [];

  constructor(private readonly cache: RegistrationProviderPort) {}

  acquire(addr: number, length: number, access: number): RegistrationPort {
    for (const h of this.held) {
      if (addr >= h.addr && addr + length <= h.end) {
        h.lent++;
        return h.reg;
      }
    }
    return this.cache.acquire(addr, length, access);
  }

  release(reg: RegistrationPort): void {
    const h = this.held.find((x) => x.reg === reg && x.lent > 0);
    if (h) h.lent--;
    else this.cache.release(reg);
  }

  /** Registers [addr, addr + length) through the cache and keeps it until the returned function is called. */
  hold(addr: number, length: number, access: number): () => void {
    const h: Held = { addr, end: addr + length, reg: this.cache.acquire(addr, length, access), lent: 0 };
    this.held.push(h);
    return () => {
      this.held.splice(this.held.indexOf(h), 1);
      this.cache.release(h.reg);
    };
  }
}

/** The rank's cache with held registrations in front of it, installed on first use. */
export function holdingCache(env: { cache: RegistrationProviderPort }): HeldRegistrations {
  if (env.cache instanceof HeldRegistrations) return env.cache;
  const held = new HeldRegistrations(env.cache);
  env.cache = held;
  return held;
}
