import type { ControlBlockHandle } from '../launcher/control-block.js';
import type { JobOptions } from '../options.js';

/** One simulated node's shared objects, as handles. */
export interface NodeHandles {
  memory: unknown;
  adapter: unknown;
  /** the node's intra-node transports (absent with --intra rdma) */
  intranode?: unknown;
}

/** What the launcher hands each rank's worker thread (structured-cloneable). */
export interface RankWorkerData {
  rank: number;
  size: number;
  node: number;
  options: JobOptions;
  /** The cost model, already resolved from a preset name or a file. */
  cost: Record<string, unknown>;
  programURL: string;
  programPath: string;
  control: ControlBlockHandle;
  nodes: NodeHandles[];
  /** Module URL '@tsmpi/*' imports resolve from (the launcher's own). */
  anchorURL: string;
  /** Add the "source" export condition (the launcher runs from src/). */
  source: boolean;
  rankMainURL: string;
  /** More ranks than cores: blocking calls sleep almost at once instead of spinning. */
  oversubscribed: boolean;
  /** rankMainURL and programURL point into a plain-JavaScript bundle of the job (no module hooks needed). */
  bundled: boolean;
}
