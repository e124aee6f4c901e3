/**
 * purgeOnFork (UCX_RCACHE_PURGE_ON_FORK) over a real @tsmpi/vm address space: fork() first drops every
 * cached region, so the registration used after the fork is made after it, on the frames the parent
 * really writes. Without it, a cache that hears nothing keeps the pre-fork registration of a page the
 * parent's next write copies away ('legacy' fork policy): the DMA reads the old bytes.
 */
import { describe, expect, it } from 'vitest';
import { AddressSpace, PhysicalMemory } from '@tsmpi/vm';
import { InvalidArgument, RegistrationCache, noneSource } from '@tsmpi/rcache';
import { VmDevice, type VmRegistration } from './vm-device.js';

const PAGE = 4096;
const R = 1;

function setup(purgeOnFork: boolean) {
  const memory = new PhysicalMemory({ bytes: 8 * 1024 * 1024, pageSize: PAGE });
  const as = new AddressSpace(memory, { vaBytes: 64 * 1024 * 1024, forkPolicy: 'legacy' });
  const dev = new VmDevice(as, 'pin');
  const cache = new RegistrationCache<VmRegistration>({ ops: dev, source: noneSource(), pageSize: PAGE, ...(purgeOnFork ? { purgeOnFork: as } : {}) });
  return { memory, as, dev, cache };
}

describe('purgeOnFork', () => {
  it.each([
    [true, 'the new bytes', 0x22, 0],
    [false, 'the old bytes', 0x11, 4],
  ])('purgeOnFork %s: after fork and a write by the parent the DMA reads %s', (purge, _what, dmaSees, stale) => {
    const { as, dev, cache } = setup(purge);
    const buf = as.mmap(4 * PAGE);
    as.fill(buf, 4 * PAGE, 0x11);
    cache.release(cache.acquire(buf, 4 * PAGE, R)); // registered, cached, unused
    const child = as.fork();
    expect(cache.stats).toMatchObject({ forkPurges: purge ? 1 : 0, deregistrations: purge ? 1 : 0 });
    expect(cache.stats.invalidationsBy.fork).toBe(purge ? 1 : 0);
    expect(dev.live.size).toBe(purge ? 0 : 1);
    as.fill(buf, 4 * PAGE, 0x22); // the application's next message
    const reg = cache.acquire(buf, 4 * PAGE, R);
    expect(cache.stats).toMatchObject({ registrations: purge ? 2 : 1, hitsFast: purge ? 0 : 1 });
    expect(dev.dmaRead(reg.handle, buf, 1)[0]).toBe(dmaSees);
    expect(dev.stalePages(reg.handle)).toBe(stale);
    expect(child.read(buf, 1)[0]).toBe(0x11);
    cache.release(reg);
    cache.close();
    expect(dev.live.size).toBe(0);
  });

  it('a region in use at fork is invalidated and deregistered at its last release', () => {
    const { as, dev, cache } = setup(true);
    const buf = as.mmap(2 * PAGE);
    const held = cache.acquire(buf, 2 * PAGE, R);
    as.fork();
    expect(cache.stats).toMatchObject({ forkPurges: 1, invalidations: 1, deferredDeregistrations: 1, regions: 0, regionsDetached: 1 });
    expect(dev.live.size).toBe(1);
    cache.release(held);
    expect(dev.live.size).toBe(0);
    cache.close();
  });

  it('close() stops listening; a bad purgeOnFork is refused', () => {
    const { as, cache, dev } = setup(true);
    cache.close();
    as.fork();
    expect(cache.stats.forkPurges).toBe(0);
    expect(() => new RegistrationCache({ ops: dev, source: noneSource(), pageSize: PAGE, purgeOnFork: {} as never })).toThrow(InvalidArgument);
  });
});
