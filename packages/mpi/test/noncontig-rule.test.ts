/**
 * The non-contiguous send rule (p2p/noncontig.ts) and the sge rendezvous's read plan (sge-plan.ts):
 * which protocol a strided send takes under each --noncontig mode, where auto switches, and how a
 * sender's segments become RDMA reads of at most maxSge local pieces.
 */
import { describe, expect, it } from 'vitest';
import { costModel } from '@tsmpi/fabric';
import { SGE_COPY_FACTOR, SGE_MAX_SPAN_RATIO, noncontigProtocol, parseNoncontig } from '../src/p2p/noncontig.js';
import { planReads } from '../src/p2p/sge-plan.js';
import { UsageError } from '../src/errors.js';

const costs = costModel('hdr');
const send = (segments: number, segBytes: number, gapRatio = 1, over = true) => ({
  overAdapterRendezvous: over, bytes: segments * segBytes, segments, spanBytes: Math.round(segments * segBytes * (1 + gapRatio)), listRoom: 12 * 1024,
});

describe('the non-contiguous rule', () => {
  it('pack always packs; sge takes sge wherever the path allows it; neither below the adapter rendezvous', () => {
    expect(noncontigProtocol(send(64, 4096), 'pack', costs)).toBe('pack');
    expect(noncontigProtocol(send(64, 4096), 'sge', costs)).toBe('sge');
    expect(noncontigProtocol(send(1000, 8), 'sge', costs)).toBe('sge');
    expect(noncontigProtocol(send(64, 4096, 1, false), 'sge', costs)).toBe('pack');
    // the segment list must fit the RTS's slot: 12 KiB / 8 bytes per entry
    expect(noncontigProtocol(send(1536, 64), 'sge', costs)).toBe('sge');
    expect(noncontigProtocol(send(1537, 64), 'sge', costs)).toBe('pack');
  });

  it('auto: sge once a segment saves more copying than a read costs (o × memcpy / 2 bytes = 1500 B at hdr), and the span is at most 4 × the data', () => {
    const breakEven = (costs.overheadUs * costs.memcpyGBps * 1000) / SGE_COPY_FACTOR;
    expect(breakEven).toBe(1500);
    expect(noncontigProtocol(send(100, 1500), 'auto', costs)).toBe('sge');
    expect(noncontigProtocol(send(100, 1499), 'auto', costs)).toBe('pack');
    expect(noncontigProtocol(send(10, 8192, SGE_MAX_SPAN_RATIO - 1), 'auto', costs)).toBe('sge');
    expect(noncontigProtocol(send(10, 8192, SGE_MAX_SPAN_RATIO), 'auto', costs)).toBe('pack');
  });

  it('--noncontig takes auto, pack or sge and says what else it could be', () => {
    expect(parseNoncontig('sge')).toBe('sge');
    expect(() => parseNoncontig('zero-copy')).toThrow(UsageError);
    expect(() => parseNoncontig('x', 'TSMPI_NONCONTIG')).toThrow(/TSMPI_NONCONTIG=x: use auto/);
  });
});

describe('the sge read plan', () => {
  it('one read per sender segment when the layouts match', () => {
    const remote = [{ addr: 1000, length: 10 }, { addr: 2000, length: 10 }];
    const local = [{ addr: 0, length: 10 }, { addr: 50, length: 10 }];
    expect(planReads(remote, local, 30)).toEqual([
      { remoteAddr: 1000, length: 10, pieces: [{ addr: 0, length: 10 }] },
      { remoteAddr: 2000, length: 10, pieces: [{ addr: 50, length: 10 }] },
    ]);
  });

  it('a coarse sender segment into fine local pieces: scatter/gather lists of at most maxSge, then a new read', () => {
    const remote = [{ addr: 0, length: 10 }];
    const local = Array.from({ length: 10 }, (_, i) => ({ addr: 100 * i, length: 1 }));
    const reads = planReads(remote, local, 4);
    expect(reads.map((r) => [r.remoteAddr, r.length, r.pieces.length])).toEqual([[0, 4, 4], [4, 4, 4], [8, 2, 2]]);
    expect(reads[1]!.pieces[0]).toEqual({ addr: 400, length: 1 });
  });

  it('a local piece split across sender segments, and a local side longer than the message', () => {
    const remote = [{ addr: 0, length: 3 }, { addr: 10, length: 3 }];
    const local = [{ addr: 100, length: 4 }, { addr: 200, length: 100 }];
    expect(planReads(remote, local, 30)).toEqual([
      { remoteAddr: 0, length: 3, pieces: [{ addr: 100, length: 3 }] },
      { remoteAddr: 10, length: 3, pieces: [{ addr: 103, length: 1 }, { addr: 200, length: 2 }] },
    ]);
    expect(() => planReads([{ addr: 0, length: 5 }], [{ addr: 0, length: 4 }], 30)).toThrow(RangeError);
  });
});
