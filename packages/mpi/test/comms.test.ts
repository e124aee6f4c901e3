import { describe, expect, it } from 'vitest';
import { runJob } from '../src/index.js';

describe('communicators', () => {
  it('dup isolates traffic; split groups by color, orders by key, leaves UNDEFINED out; statuses use communicator ranks', async () => {
    const r = await runJob({ np: 5, program: new URL('./programs/comms.ts', import.meta.url) });
    expect(r.error).toBeUndefined();
    const v = r.ranks.map((x) => x.value as Record<string, any>);
    // rank 0 sent on dup first, then on world: a wildcard receive on world still gets the world message
    expect(v[1]!.dupFirstOnWorld).toBe('on world');
    expect(v[1]!.dupThenOnDup).toBe('on dup');
    // colors: even {0, 2}, odd {1, 3}; rank 4 is UNDEFINED. key = -rank: higher world rank first
    expect(v[4]!.sub).toBeNull();
    expect(v[2]!.sub).toMatchObject({ size: 2, rank: 0, sum: 2, echo: 'root is world 2' });
    expect(v[0]!.sub).toMatchObject({ size: 2, rank: 1, sum: 2, echo: 'root is world 2' });
    expect(v[3]!.sub).toMatchObject({ size: 2, rank: 0, sum: 4, sources: [1], echo: 'root is world 3' });
    expect(v[1]!.sub).toMatchObject({ size: 2, rank: 1, sum: 4, echo: 'root is world 3' });
    // the ring inside each group: the left neighbour of sub rank 0 is sub rank 1
    expect(v[2]!.sub.fromLeft).toEqual({ worldRank: 0 });
    expect(v[0]!.sub.fromLeft).toEqual({ worldRank: 2 });
    expect(v[3]!.sub.fromLeft).toEqual({ worldRank: 1 });
  });
});
