import { describe, expect, it } from 'vitest';
import { ANY_SOURCE, ANY_TAG } from '../src/constants.js';
import { MatchQueues, matches, type MatchKey } from '../src/p2p/matching.js';

interface Recv extends MatchKey { id: string }
interface Msg extends MatchKey { id: string }

const recv = (id: string, source: number, tag: number, context = 0): Recv => ({ id, source, tag, context });
const msg = (id: string, source: number, tag: number, context = 0): Msg => ({ id, source, tag, context });

describe('matching queues', () => {
  it('a wildcard receive takes the earliest arrival among all sources', () => {
    const q = new MatchQueues<Recv, Msg>();
    q.arrive(msg('from2', 2, 5));
    q.arrive(msg('from1', 1, 5));
    q.arrive(msg('from0', 0, 5));
    expect(q.post(recv('r', ANY_SOURCE, ANY_TAG))?.id).toBe('from2');
    expect(q.post(recv('r', ANY_SOURCE, 5))?.id).toBe('from1');
    expect(q.unexpectedCount).toBe(1);
  });

  it('messages from one source with one tag are received in send order (non-overtaking)', () => {
    const q = new MatchQueues<Recv, Msg>();
    for (let i = 0; i < 5; i++) q.arrive(msg(`m${i}`, 3, 7));
    const got = [0, 1, 2, 3, 4].map(() => q.post(recv('r', 3, 7))!.id);
    expect(got).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
  });

  it('an arrival goes to the oldest posted receive it matches, even if a later one is more specific', () => {
    const q = new MatchQueues<Recv, Msg>();
    expect(q.post(recv('any', ANY_SOURCE, ANY_TAG))).toBeUndefined();
    expect(q.post(recv('specific', 1, 4))).toBeUndefined();
    expect(q.arrive(msg('m', 1, 4))?.id).toBe('any');
    expect(q.arrive(msg('m2', 1, 4))?.id).toBe('specific');
    expect(q.postedCount).toBe(0);
  });

  it('tags select: a receive for tag 2 skips an earlier tag-1 message', () => {
    const q = new MatchQueues<Recv, Msg>();
    q.arrive(msg('t1', 0, 1));
    q.arrive(msg('t2', 0, 2));
    expect(q.post(recv('r', 0, 2))?.id).toBe('t2');
    expect(q.post(recv('r', 0, 1))?.id).toBe('t1');
  });

  it('contexts never match each other (a collective twin cannot steal a user message)', () => {
    const q = new MatchQueues<Recv, Msg>();
    q.arrive(msg('user', 0, 1, 0));
    expect(q.post(recv('coll', ANY_SOURCE, ANY_TAG, 1))).toBeUndefined();
    expect(q.post(recv('user-recv', 0, 1, 0))?.id).toBe('user');
    expect(q.arrive(msg('coll-msg', 0, 1, 1))?.id).toBe('coll');
  });

  it('peek leaves the message; takeUnexpected removes it so no receive can match it', () => {
    const q = new MatchQueues<Recv, Msg>();
    q.arrive(msg('a', 1, 1));
    expect(q.peek({ context: 0, source: ANY_SOURCE, tag: ANY_TAG })?.id).toBe('a');
    expect(q.unexpectedCount).toBe(1);
    expect(q.takeUnexpected({ context: 0, source: 1, tag: 1 })?.id).toBe('a');
    expect(q.post(recv('r', 1, 1))).toBeUndefined();
  });

  it('cancel withdraws a posted receive once', () => {
    const q = new MatchQueues<Recv, Msg>();
    const r = recv('r', 0, 0);
    q.post(r);
    expect(q.cancel(r)).toBe(true);
    expect(q.cancel(r)).toBe(false);
    expect(q.arrive(msg('m', 0, 0))).toBeUndefined();
  });

  it('wildcards are only honoured on the receive side', () => {
    expect(matches({ context: 0, source: ANY_SOURCE, tag: 3 }, { context: 0, source: 4, tag: 3 })).toBe(true);
    expect(matches({ context: 0, source: 4, tag: 3 }, { context: 0, source: ANY_SOURCE, tag: 3 })).toBe(false);
  });
});
