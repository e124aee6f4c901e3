import { describe, expect, it } from 'vitest';
import { nodeOfRank, ranksOfNode } from '../src/launcher/placement.js';

describe('placement', () => {
  it('spreads ranks over nodes in blocks, the first nodes taking the remainder', () => {
    expect([0, 1, 2, 3, 4].map((r) => nodeOfRank(r, 5, 2))).toEqual([0, 0, 0, 1, 1]);
    expect(ranksOfNode(2, 8, 3)).toEqual([6, 7]);
    expect([0, 1, 2, 3].map((r) => nodeOfRank(r, 4, 4))).toEqual([0, 1, 2, 3]);
  });
});
