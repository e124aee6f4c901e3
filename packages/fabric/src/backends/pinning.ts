import { MrBacking } from '../shared/layout.js';
import { Counter } from '../stats.js';
import type { FaultResult, MemoryBackend } from './backend.js';

/**
 * What every backend with frozen translations shares: an entry is the frame itself, snapshotted at
 * registration; nothing faults, nothing is invalidated (after munmap + a new mapping the DMA still
 * reaches the old frames: a real stale transfer).
 */
export const frozenTranslations = {
  onDemand: false,
  frameOf(entry: number): number {
    return entry;
  },
  fault(): FaultResult {
    return { pages: 0, chunks: new Set() }; // every entry is filled at registration
  },
  invalidate(): number {
    return 0;
  },
} as const;

/**
 * Dumb pinning (get_user_pages): registration faults in and pins every page, charged to the
 * memlock limit; migration and reclaim refuse the pages; deregistration unpins.
 */
export const pinning: MemoryBackend = {
  name: 'pin',
  code: MrBacking.PIN,
  priceAs: 'pinning',
  heldPagesCounter: Counter.pinnedPages,
  ...frozenTranslations,
  register(r) {
    const frames = r.space.pin(r.addr, r.length);
    for (let i = 0; i < r.pages; i++) r.entries[r.base + i] = frames[i]!;
  },
  deregister(r) {
    r.space.unpin(Array.from(r.entries.subarray(r.base, r.base + r.pages)));
  },
};
