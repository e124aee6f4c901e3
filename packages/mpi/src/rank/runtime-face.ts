import type { AddressSpace, Allocator } from '@tsmpi/vm';
import type { Engine } from '../p2p/engine.js';
import type { ProgramClock } from '../compute.js';
import type { RankStats } from '../stats.js';
import type { BufferMemory } from '../typed-buffer.js';

/** What a communicator needs from its rank's runtime (src/rank/runtime.ts builds it). */
export interface RankRuntimeFace {
  readonly worldRank: number;
  readonly worldSize: number;
  /** The simulated node the rank runs on (splitType(COMM_TYPE_SHARED) groups by it). */
  readonly node: number;
  readonly engine: Engine;
  readonly memory: BufferMemory;
  /** The rank's AddressSpace (@tsmpi/vm), exposed to programs as comm.space. */
  readonly space: AddressSpace;
  /** The rank's Allocator (@tsmpi/vm), exposed to programs as comm.heap. */
  readonly heap: Allocator;
  /** The program clock: wtime(), and the compute / communication / waiting tallies (src/compute.ts). */
  readonly clock: ProgramClock;
  /** How many context ids this rank has handed out, plus 2 (comm/context.ts turns it into a job-wide unique context). */
  nextContext: number;
  stats(): RankStats;
  abort(code: number, message: string): never;
  setResult(value: unknown): void;
}
