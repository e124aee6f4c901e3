import type { SpaceState } from './space-state.js';

/*
 * Changes the kernel makes on its own (compaction, NUMA balancing, memory pressure): no memory
 * hook sees them, only the mmu notifier. Run on the owner thread; AddressSpace delegates here.
 */

export function migrate(s: SpaceState, addr: number, length: number): { moved: number; refused: number[] } {
  s.checkAlive('migrate');
  const [start, end] = s.clampRange(addr, length);
  const { movable, refused } = scan(s, start, end, (p) => s.table.migratable(p), 'moved');
  let moved = 0;
  if (movable.length > 0) {
    s.invalidate(start, end, 'migrate', 'migrate', () => {
      for (const p of movable) {
        if (s.table.migrate(p) === 'moved') moved++;
        else refused.push(p * s.pageSize);
      }
    });
  }
  refused.sort((a, b) => a - b);
  s.counters.migrated += moved;
  s.counters.migrateRefused += refused.length;
  return { moved, refused };
}

export function reclaim(s: SpaceState, addr: number, length: number): { reclaimed: number; refused: number[]; swapFull: number } {
  s.checkAlive('reclaim');
  const [start, end] = s.clampRange(addr, length);
  const { movable, refused } = scan(s, start, end, (p) => s.table.reclaimable(p), 'reclaimed');
  let reclaimed = 0;
  let swapFull = 0;
  if (movable.length > 0) {
    s.invalidate(start, end, 'clear', 'reclaim', () => {
      for (const p of movable) {
        const r = s.table.swapOut(p);
        if (r === 'reclaimed') reclaimed++;
        else if (r === 'swap-full') swapFull++;
        else if (r !== 'absent') refused.push(p * s.pageSize);
      }
    });
  }
  refused.sort((a, b) => a - b);
  s.counters.reclaimed += reclaimed;
  s.counters.reclaimRefused += refused.length;
  return { reclaimed, refused, swapFull };
}

/** Pages of the mapped part of [start, end) that `verdict` would act on, and the addresses it refuses. */
function scan(s: SpaceState, start: number, end: number, verdict: (p: number) => string, yes: string): { movable: number[]; refused: number[] } {
  const ps = s.pageSize;
  const movable: number[] = [];
  const refused: number[] = [];
  for (const v of s.vmas.overlapping(start, end)) {
    for (let p = Math.max(v.start, start) / ps; p < Math.min(v.end, end) / ps; p++) {
      const r = verdict(p);
      if (r === yes) movable.push(p);
      else if (r !== 'absent') refused.push(p * ps);
    }
  }
  return { movable, refused };
}
