/**
 * SOURCE_HEARS against the sources themselves: for each source and each origin of change, a watched
 * range is changed once (munmap for a call, migrate for the kernel) and the source's drain says
 * whether it heard. The table and the sources must agree, since the bench's safety verdict reads
 * the table.
 */
import { describe, expect, it } from 'vitest';
import { AddressSpace, PhysicalMemory } from '@tsmpi/vm';
import {
  CHANGE_ORIGINS, POLICIES, SOURCE_HEARS, hooksSource, noneSource, notifierSource, policyHears,
  type ChangeOrigin, type InvalidationSource, type SourceKind,
} from '@tsmpi/rcache';

const PAGE = 4096;

function heardAfter(kind: SourceKind, origin: ChangeOrigin): boolean {
  const memory = new PhysicalMemory({ bytes: 8 * 1024 * 1024, pageSize: PAGE });
  const as = new AddressSpace(memory);
  const source: InvalidationSource = kind === 'none' ? noneSource() : kind === 'hooks' ? hooksSource(as) : notifierSource(as);
  const len = 4 * PAGE;
  const buf = as.mmap(len, { populate: true });
  const cookie = source.watch(buf, buf + len);
  if (origin === 'call') as.munmap(buf, len);
  else expect(as.migrate(buf, len).moved).toBe(4);
  const heard = source.pending() && source.drain().cookies.includes(cookie);
  source.close();
  return heard;
}

describe('what each invalidation source hears', () => {
  for (const kind of ['none', 'hooks', 'notifier'] as const) {
    for (const origin of CHANGE_ORIGINS) {
      it(`${kind} source, a ${origin}-initiated change: the table says what the source does`, () => {
        expect(heardAfter(kind, origin)).toBe(SOURCE_HEARS[kind].includes(origin));
      });
    }
  }

  it('policyHears: off keeps nothing (safe under every change), none hears nothing, hooks only calls', () => {
    expect(POLICIES).toEqual(['off', 'none', 'hooks', 'notifier']);
    const grid = POLICIES.map((p) => CHANGE_ORIGINS.map((o) => policyHears(p, o)));
    expect(grid).toEqual([[true, true], [false, false], [true, false], [true, true]]);
  });
});
