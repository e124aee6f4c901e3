/** The README's embedding example, run as written (with a toy device behind it). */
import { expect, it } from 'vitest';
import { RegistrationCache, noneSource } from '@tsmpi/rcache';

type MyHandle = { id: number };
const ACCESS = 1;

it('README: embedding the cache over a custom register/deregister pair', () => {
  const live = new Set<number>();
  let next = 1;
  const myDevice = {
    reg: (_addr: number, _len: number, _access: number): MyHandle => (live.add(next), { id: next++ }),
    dereg: (h: MyHandle) => void live.delete(h.id),
  };
  const posted: MyHandle[] = [];
  const post = (h: MyHandle) => posted.push(h);
  const buf = 0x10_0000;
  const len = 10_000;
  const log: unknown[] = [];

  // --- the README example, as written ---
  const cache = new RegistrationCache<MyHandle>({
    ops: {
      register: (start, end, access) => myDevice.reg(start, end - start, access), // page-aligned [start, end)
      deregister: (h) => myDevice.dereg(h),
    },
    source: noneSource(), // or hooksSource(space) / notifierSource(space) over a @tsmpi/vm AddressSpace
    pageSize: 4096,
    maxRegions: 1024,
    maxBytes: 64 << 20,
  });
  const reg = cache.acquire(buf, len, ACCESS); // reg.handle is what register() returned
  post(reg.handle);
  cache.release(reg); // stays registered (lazy) until evicted or invalidated
  log.push(cache.stats.hitsFast, cache.close().inUse);
  // --- end ---

  expect(posted).toEqual([{ id: 1 }]);
  expect(log).toEqual([0, []]);
  expect(live.size).toBe(0);
});
