import { RegistrationError } from '../errors.js';
import { MrBacking } from '../shared/layout.js';
import { Counter } from '../stats.js';
import type { MemoryBackend } from './backend.js';
import { frozenTranslations } from './pinning.js';

/**
 * The historical variant (mlock does *not* pin pages, a mistake registration code once made): pages are mlocked and their
 * frames snapshotted. Reclaim refuses them, but migrate() moves them and the snapshot goes stale:
 * the DMA touches the frame the page used to live in.
 */
export const mlock: MemoryBackend = {
  name: 'mlock',
  code: MrBacking.MLOCK,
  priceAs: 'pinning',
  heldPagesCounter: Counter.mlockedPages,
  ...frozenTranslations,
  register(r) {
    r.space.mlock(r.addr, r.length);
    const ps = r.space.pageSize;
    for (let i = 0; i < r.pages; i++) {
      const f = r.space.translate(r.firstPage + i * ps);
      if (f === undefined) {
        r.space.munlock(r.addr, r.length);
        throw new RegistrationError('EFAULT', r.addr, r.length, `page 0x${(r.firstPage + i * ps).toString(16)} is not resident after mlock (PROT_NONE?)`);
      }
      r.entries[r.base + i] = f;
    }
  },
  deregister(r) {
    try {
      r.space.munlock(r.addr, r.length);
    } catch {
      // The range was unmapped since: the kernel dropped the lock with the mapping.
    }
  },
};
