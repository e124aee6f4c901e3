/**
 * Property: over random sequences of acquire / release / malloc / free / madvise / write /
 * migrate, a cache fed by `notifier` — and by `hooks` when nothing migrates — never hands out a
 * registration whose snapshot of frames differs from the current page table.
 *
 * The device pins nothing and snapshots translations at register time (test/vm-device.ts 'snapshot'),
 * so anything that moves a page under a registration is visible as a stale page.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AddressSpace, PhysicalMemory } from '@tsmpi/vm';
import { RegistrationCache, hooksSource, notifierSource, type Registration } from '@tsmpi/rcache';
import { VmDevice, type VmRegistration } from './vm-device.js';

const PAGE = 4096;
const SLOTS = 4;

type Op =
  | { op: 'malloc'; slot: number; pages: number }
  | { op: 'free'; slot: number }
  | { op: 'acquire'; slot: number; first: number; pages: number; skew: number; access: number }
  | { op: 'release'; k: number }
  | { op: 'write'; slot: number }
  | { op: 'madvise'; slot: number; page: number }
  | { op: 'migrate'; slot: number };

const slot = fc.nat(SLOTS - 1);
const baseOps = [
  fc.record({ op: fc.constant('malloc' as const), slot, pages: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ op: fc.constant('free' as const), slot }),
  fc.record({
    op: fc.constant('acquire' as const),
    slot,
    first: fc.nat(5),
    pages: fc.integer({ min: 1, max: 6 }),
    skew: fc.nat(PAGE - 1),
    access: fc.integer({ min: 1, max: 3 }),
  }),
  fc.record({ op: fc.constant('acquire' as const), slot, first: fc.nat(5), pages: fc.integer({ min: 1, max: 6 }), skew: fc.constant(0), access: fc.constant(1) }),
  fc.record({ op: fc.constant('release' as const), k: fc.nat() }),
  fc.record({ op: fc.constant('write' as const), slot }),
  fc.record({ op: fc.constant('madvise' as const), slot, page: fc.nat(5) }),
];
const withMigration = fc.oneof(...baseOps, fc.record({ op: fc.constant('migrate' as const), slot }));
const withoutMigration = fc.oneof(...baseOps);

interface Totals {
  acquires: number;
  hits: number;
  invalidations: number;
  merges: number;
}

function run(kind: 'hooks' | 'notifier', ops: Op[], totals: Totals): void {
  const memory = new PhysicalMemory({ bytes: 4 * 1024 * 1024, pageSize: PAGE });
  const as = new AddressSpace(memory, { vaBytes: 64 * 1024 * 1024 });
  const dev = new VmDevice(as, 'snapshot');
  const source = kind === 'hooks' ? hooksSource(as) : notifierSource(as);
  const cache = new RegistrationCache<VmRegistration>({ ops: dev, source, pageSize: PAGE });
  expect(cache.stats.refusing).toBe(false);
  const bufs: Array<{ addr: number; pages: number } | undefined> = new Array(SLOTS).fill(undefined);
  const held: Array<Registration<VmRegistration>> = [];

  for (const o of ops) {
    switch (o.op) {
      case 'malloc':
        if (bufs[o.slot] === undefined) bufs[o.slot] = { addr: as.mmap(o.pages * PAGE), pages: o.pages };
        break;
      case 'free': {
        const b = bufs[o.slot];
        if (b !== undefined) {
          as.munmap(b.addr, b.pages * PAGE);
          bufs[o.slot] = undefined;
        }
        break;
      }
      case 'acquire': {
        const b = bufs[o.slot];
        if (b === undefined) break;
        const first = o.first % b.pages;
        const pages = Math.min(o.pages, b.pages - first);
        const addr = b.addr + first * PAGE + Math.min(o.skew, PAGE - 1);
        const length = pages * PAGE - Math.min(o.skew, PAGE - 1);
        const reg = cache.acquire(addr, length, o.access);
        totals.acquires++;
        // The property: what the cache hands out matches the page table, page for page.
        expect(dev.stalePages(reg.handle)).toBe(0);
        expect(reg.start <= addr && addr + length <= reg.end).toBe(true);
        expect(reg.access & o.access).toBe(o.access);
        held.push(reg);
        break;
      }
      case 'release':
        if (held.length > 0) cache.release(held.splice(o.k % held.length, 1)[0]!);
        break;
      case 'write': {
        const b = bufs[o.slot];
        if (b !== undefined) as.fill(b.addr, b.pages * PAGE, o.slot + 1);
        break;
      }
      case 'madvise': {
        const b = bufs[o.slot];
        if (b !== undefined) as.madvise(b.addr + (o.page % b.pages) * PAGE, PAGE, 'dontneed');
        break;
      }
      case 'migrate': {
        const b = bufs[o.slot];
        if (b !== undefined) as.migrate(b.addr, b.pages * PAGE);
        break;
      }
    }
  }
  for (const r of held) cache.release(r);
  const s = cache.stats;
  totals.hits += s.hitsFast + s.hitsSlow;
  totals.invalidations += s.invalidations;
  totals.merges += s.merges;
  expect(s.gets).toBe(s.hitsFast + s.hitsSlow + s.misses);
  cache.close();
  expect(dev.live.size).toBe(0);
}

describe('no stale registration is ever handed out', () => {
  it('notifier, with migration', () => {
    const totals: Totals = { acquires: 0, hits: 0, invalidations: 0, merges: 0 };
    fc.assert(fc.property(fc.array(withMigration, { minLength: 30, maxLength: 100 }), (ops) => run('notifier', ops as Op[], totals)), { numRuns: 200 });
    // Not vacuous: the sequences really hit, merged and invalidated.
    expect(totals.acquires).toBeGreaterThan(400);
    expect(totals.hits).toBeGreaterThan(40);
    expect(totals.invalidations).toBeGreaterThan(150);
    expect(totals.merges).toBeGreaterThan(30);
  });

  it('hooks, without migration', () => {
    const totals: Totals = { acquires: 0, hits: 0, invalidations: 0, merges: 0 };
    fc.assert(fc.property(fc.array(withoutMigration, { minLength: 30, maxLength: 100 }), (ops) => run('hooks', ops as Op[], totals)), { numRuns: 200 });
    expect(totals.acquires).toBeGreaterThan(400);
    expect(totals.hits).toBeGreaterThan(40);
    expect(totals.invalidations).toBeGreaterThan(150);
  });

  it('hooks with migration does hand out stale registrations (the property is not trivially true)', () => {
    const found = fc.check(
      fc.property(fc.array(withMigration, { minLength: 30, maxLength: 100 }), (ops) => {
        run('hooks', ops as Op[], { acquires: 0, hits: 0, invalidations: 0, merges: 0 });
      }),
      { numRuns: 300 },
    );
    expect(found.failed).toBe(true);
  });
});
