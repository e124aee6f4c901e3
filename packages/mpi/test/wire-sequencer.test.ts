// What a node process commits from its inbound channels under exact timing (issue 18, item 2): the
// real horizon with two local ranks (0, 1) and two remote ones, rank 2 on node 1 and rank 3 on node 2,
// whose rows here are mirrors fed by PROMISE entries and by the frames held for them.
import { describe, expect, it } from 'vitest';
import { FrameOrder, RELAYED } from '@tsmpi/fabric';
import { Horizon, TimingMode } from '../src/timing/horizon.js';
import { HorizonSequencer } from '../src/timing/wire-sequencer.js';

function node(): { order: FrameOrder; horizon: Horizon; rank0: Horizon; applied: string[] } {
  const handle = Horizon.create(4);
  const horizon = Horizon.attach(handle, () => Infinity);
  const order = new FrameOrder(new HorizonSequencer(horizon, [0, 1]), async () => {});
  // the local ranks are far ahead: only the channels decide
  horizon.publish(0, TimingMode.RUNNING, 100, Infinity);
  horizon.publish(1, TimingMode.RUNNING, 100, Infinity);
  return { order, horizon, rank0: Horizon.attach(handle, () => Infinity), applied: [] };
}

/** Hold a frame of `origin` posted at `t`, recording when it is applied. */
function hold(n: ReturnType<typeof node>, origin: number, t: number): void {
  n.order.hold(origin, t, true, () => {
    n.applied.push(`${origin}@${t}`);
    return undefined;
  });
  n.order.release();
}

describe('FrameOrder with the horizon: a node commits an arrival only when every inbound channel has promised nothing earlier', () => {
  it('a frame waits for the other channel\'s promise to pass its time; ties go by origin rank, as in one process', () => {
    const n = node();
    n.order.promise(1, 2, 10);
    n.order.promise(2, 3, 5);
    hold(n, 2, 7);
    expect(n.applied).toEqual([]); // node 2 promised only 5: its rank 3 may still act at 5..7
    expect(n.horizon.bound(2)).toBe(7); // while it waits, its origin's mirror is at most its time
    n.order.promise(2, 3, 6.5);
    n.order.release();
    expect(n.applied).toEqual([]);
    n.order.promise(2, 3, 7); // rank 3 at 7 sorts after rank 2 at 7
    n.order.release();
    expect(n.applied).toEqual(['2@7']);
    expect(n.horizon.bound(2)).toBe(10); // back to its node's promise
    // the other way round: rank 3's frame at 12 waits until rank 2 is past 12, not merely at it
    n.order.promise(2, 3, 20);
    hold(n, 3, 12);
    n.order.promise(1, 2, 12);
    n.order.release();
    expect(n.applied).toEqual(['2@7']);
    n.order.promise(1, 2, 12.5);
    n.order.release();
    expect(n.applied).toEqual(['2@7', '3@12']);
  });

  it('a local rank below the frame\'s time holds it back too', () => {
    const n = node();
    n.order.promise(1, 2, 50);
    n.order.promise(2, 3, 50);
    n.horizon.publish(1, TimingMode.RUNNING, 8, Infinity);
    hold(n, 2, 9);
    expect(n.applied).toEqual([]);
    n.horizon.publish(1, TimingMode.BLOCKED, 8, Infinity);
    n.order.release();
    expect(n.applied).toEqual(['2@9']);
  });

  it('never above a channel\'s promise, whatever order promises and frames come in (random schedules)', () => {
    let seed = 12345;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 200; trial++) {
      const n = node();
      const promised = new Map<number, number>([[2, 0], [3, 0]]);
      const sent = new Map<number, number>([[2, 0], [3, 0]]);
      const committed: Array<[number, number]> = [];
      for (let step = 0; step < 30; step++) {
        const origin = random() < 0.5 ? 2 : 3;
        if (random() < 0.5) {
          // a frame, posted no earlier than its node's last promise (a channel is FIFO)
          const t = Math.max(promised.get(origin)!, sent.get(origin)!) + Math.floor(random() * 4);
          sent.set(origin, t);
          n.order.hold(origin, t, true, () => {
            // committed only when the other channel's promise is past it (ties by origin)
            const other = origin === 2 ? 3 : 2;
            const p = promised.get(other)!;
            expect(p > t || (p === t && other > origin)).toBe(true);
            committed.push([origin, t]);
            return undefined;
          });
        } else {
          const b = Math.max(promised.get(origin)!, sent.get(origin)!) + Math.floor(random() * 4);
          promised.set(origin, b);
          n.order.promise(origin - 1, origin, b);
        }
        n.order.release();
      }
      // committed in (time, origin) order (one origin's frames at one time in their channel's order)
      for (let i = 1; i < committed.length; i++) {
        const [o0, t0] = committed[i - 1]!;
        const [o1, t1] = committed[i]!;
        expect(t0 < t1 || (t0 === t1 && o0 <= o1)).toBe(true);
      }
    }
  });

  it('a relayed (bound, origin) lowers that origin\'s mirror, ties still by its own rank; a node relays the least of the others', () => {
    const n = node();
    n.order.promise(1, 2, 30);
    n.order.promise(2, 3, 40);
    n.order.promise(2, RELAYED + 2, 12); // node 2 last heard rank 2 at 12
    expect(n.horizon.bound(2)).toBe(12);
    expect(n.horizon.bound(3)).toBe(40);
    n.order.promise(2, RELAYED + 3, 35); // its relay moved to another origin: rank 2's mirror is its own again
    expect(n.horizon.bound(2)).toBe(30);
    expect(n.horizon.bound(3)).toBe(35);
    // to node 1 this node relays node 2's rank 3, to node 2 node 1's rank 2 (held frames count)
    expect(n.order.relayFor(1)).toEqual([3, 40]);
    n.order.promise(1, 2, 50);
    hold(n, 2, 36); // waits: rank 3's mirror is 35
    expect(n.applied).toEqual([]);
    expect(n.order.relayFor(2)).toEqual([2, 36]);
    n.order.lost(2);
    expect(n.horizon.bound(3)).toBe(Infinity);
  });

  it('a mirror that falls voids a rank\'s cached horizon (a promise made while the rank was blocked, lowered by what its node applied)', () => {
    const n = node();
    n.order.promise(1, 2, Infinity);
    n.order.promise(2, 3, Infinity);
    n.rank0.publish(0, TimingMode.RUNNING, 8, Infinity);
    expect(n.rank0.safe(0, 8)).toBe(true); // cached: nobody below Infinity
    n.order.promise(1, 2, 6); // node 1 applied a send of ours to rank 2: it may act at 6
    expect(n.rank0.safe(0, 8)).toBe(false);
    expect(n.rank0.safeForEvents(0, 8, 1)).toBe(false);
  });
});
