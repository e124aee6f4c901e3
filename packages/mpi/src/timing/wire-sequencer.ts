import type { WireSequencer } from '@tsmpi/fabric';
import type { Horizon } from './horizon.js';

/**
 * A node process's horizon as its network wire sees it (exact timing across processes; see
 * @tsmpi/fabric net/sequencer.ts): the wire applies a peer's operation at (t, origin) once every
 * other rank, here or mirrored, is past it; it promises this node's ranks' bounds to the peers;
 * and it writes the mirrors of the other nodes' ranks from their promises.
 */
export class HorizonSequencer implements WireSequencer {
  constructor(private readonly horizon: Horizon, private readonly localRanks: readonly number[]) {
    horizon.watchNode();
  }

  due(origin: number, t: number): boolean {
    return this.horizon.clear(origin, t);
  }

  promises(): ReadonlyArray<readonly [number, number]> {
    return this.localRanks.map((r) => [r, this.horizon.bound(r)] as const);
  }

  mirror(origin: number, bound: number): void {
    this.horizon.mirror(origin, bound);
  }

  epoch(): number {
    return this.horizon.nodeEpoch;
  }

  moved(seen: number): Promise<unknown> | undefined {
    return this.horizon.movedAsync(seen);
  }
}
