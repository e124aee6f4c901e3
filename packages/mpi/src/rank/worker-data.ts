import type { PhysicalMemoryHandle } from '@tsmpi/vm';
import type { AdapterHandle, CostModel, Intranode, NetworkWireHandle } from '@tsmpi/fabric';
import type { ControlBlockHandle } from '../launcher/control-block.js';
import type { ConnectionTableHandle } from './connections.js';
import type { JobOptions } from '../options.js';
import type { HorizonHandle } from '../timing/horizon.js';
import type { TraceSettings } from '../trace/events.js';

/** One simulated node's shared objects, as handles. */
export interface NodeHandles {
  memory: PhysicalMemoryHandle;
  adapter: AdapterHandle;
  /** the node's intra-node transports (absent with --intra rdma) */
  intranode?: Intranode['handle'];
}

/** What the launcher hands each rank's worker thread (structured-cloneable). */
export interface RankWorkerData {
  rank: number;
  size: number;
  node: number;
  options: JobOptions;
  /** The cost model, already resolved from a preset name or a file. */
  cost: CostModel;
  programURL: string;
  programPath: string;
  control: ControlBlockHandle;
  /** Which queue pairs exist between the ranks of this process (rank/connections.ts). */
  connections: ConnectionTableHandle;
  /** The job's virtual-time horizon (exact timing); absent with --timing fast. */
  horizon?: HorizonHandle;
  /** By node id; a node process of a multi-process job has only its own (the others are across the network). */
  nodes: Array<NodeHandles | undefined>;
  /** The fabric's network wire (a node process of a multi-process job): QPs to other nodes go through it. */
  network?: NetworkWireHandle;
  /** Module URL '@tsmpi/*' imports resolve from (the launcher's own). */
  anchorURL: string;
  /** Add the "source" export condition (the launcher runs from src/). */
  source: boolean;
  rankMainURL: string;
  /** More ranks than cores: blocking calls sleep almost at once instead of spinning. */
  oversubscribed: boolean;
  /** rankMainURL and programURL point into a plain-JavaScript bundle of the job (no module hooks needed). */
  bundled: boolean;
  /** Record a trace (runJob's `trace`); absent: nothing is recorded and no entry point is wrapped. */
  trace?: TraceSettings;
}
