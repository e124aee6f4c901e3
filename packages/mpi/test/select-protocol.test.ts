import { describe, expect, it } from 'vitest';
import { protocolFor, type PeerPath } from '../src/p2p/select.js';

const K = 12 * 1024;

describe('selectProtocol: the one eager/rendezvous and intra-node decision', () => {
  it('sends below the threshold eagerly and at or above it by rendezvous, on every path', () => {
    const rows: [PeerPath, string, string][] = [
      ['self', 'selfBuffered', 'selfSynchronous'],
      ['shm', 'shm', 'shm'],
      ['auto', 'shm', 'rendezvousXpmem'],
      ['cma', 'eager', 'rendezvousCma'],
      ['xpmem', 'eager', 'rendezvousXpmem'],
      // --rndv auto (the default): the pipelined rendezvous, which takes the whole buffer when it fits
      ['rdma', 'eager', 'rendezvousPipeline'],
    ];
    for (const [path, below, atOrAbove] of rows) {
      expect([path, protocolFor(path, 1, K), protocolFor(path, K - 1, K)]).toEqual([path, below, below]);
      expect([path, protocolFor(path, K, K), protocolFor(path, 4 * 1024 * 1024, K)]).toEqual([path, atOrAbove, atOrAbove]);
    }
  });

  it('sends an empty message eagerly even with a zero threshold, except to itself (kept synchronous)', () => {
    expect(protocolFor('rdma', 0, 0)).toBe('eager');
    expect(protocolFor('auto', 0, 0)).toBe('shm');
    expect(protocolFor('cma', 0, 0)).toBe('eager');
    expect(protocolFor('self', 0, 0)).toBe('selfSynchronous');
    expect(protocolFor('rdma', 1, 0)).toBe('rendezvousPipeline');
  });

  it('takes the whole-buffer rendezvous over the adapter under --rndv whole, the pipeline otherwise', () => {
    expect(protocolFor('rdma', K, K, false, 'whole')).toBe('rendezvousRdma');
    expect(protocolFor('rdma', K, K, true, 'whole')).toBe('rendezvousRdma');
    expect(protocolFor('rdma', K, K, false, 'pipeline')).toBe('rendezvousPipeline');
    expect(protocolFor('rdma', K, K, true, 'auto')).toBe('rendezvousPipeline');
    // intra-node single-copy transports register nothing: --rndv does not apply
    expect(protocolFor('cma', K, K, false, 'pipeline')).toBe('rendezvousCma');
  });
});
