import { existsSync } from 'node:fs';
import { PhysicalMemory } from '@tsmpi/vm';
import { createAdapter, createIntranode, loadCostModel, costModel, presets, type Adapter, type CostModel } from '@tsmpi/fabric';
import { ranksOfNode } from './placement.js';
import { UsageError } from '../errors.js';
import { MAX_QUEUE_PAIRS } from '../option-checks.js';
import type { JobOptions } from '../options.js';
import type { NodeHandles } from '../rank/worker-data.js';

/** '--cost hdr|edr|ndr|FILE' or an object of overrides on top of hdr. */
export function resolveCost(cost: JobOptions['cost']): CostModel {
  if (typeof cost === 'object') return costModel(presets.hdr, cost as Partial<CostModel>);
  if (cost in presets) return presets[cost as keyof typeof presets];
  if (existsSync(cost)) return loadCostModel(cost);
  throw new UsageError(`--cost ${cost}: neither a preset (${Object.keys(presets).join(', ')}) nor a readable JSON file`);
}

/** The adapter's own default queue-pair table (8192 entries); a bigger job gets a bigger one, up to an adapter's max_qp. */
const MIN_QUEUE_PAIRS = 8192;

/**
 * One PhysicalMemory and one adapter per simulated node, created here in the launcher's thread;
 * the ranks attach them from their handles. A node process of a multi-process job creates only its own
 * node (`only`); the other slots stay empty: those nodes live in other processes.
 */
export function createNodes(np: number, options: JobOptions, only?: number) {
  const cost = resolveCost(options.cost);
  const handles: Array<NodeHandles | undefined> = [];
  const adapters: Array<Adapter | undefined> = [];
  for (let nodeId = 0; nodeId < options.nodes; nodeId++) {
    if (only !== undefined && nodeId !== only) {
      handles.push(undefined);
      adapters.push(undefined);
      continue;
    }
    const memory = new PhysicalMemory({ bytes: options.memBytes, pageSize: cost.pageSize });
    const local = ranksOfNode(nodeId, np, options.nodes).length;
    // Room for every rank to talk to every other (a row is committed memory only once a connection
    // made on first use writes it), within what one adapter offers.
    const limits = { maxQueuePairs: Math.min(MAX_QUEUE_PAIRS, Math.max(MIN_QUEUE_PAIRS, local * (np - 1))) };
    const adapter = createAdapter(options.fabric, { memory, cost, nodeId, limits, ...(options.fabric === 'pinning' ? { pinMode: options.pinMode } : {}) });
    const handle: NodeHandles = { memory: memory.handle, adapter: adapter.handle };
    if (options.intra !== 'rdma') {
      handle.intranode = createIntranode({ memory, cost, nodeId, limits: { maxProcesses: Math.max(64, local) } }).handle;
    }
    handles.push(handle);
    adapters.push(adapter);
  }
  return {
    cost,
    handles,
    adapters,
    close(): void {
      // Shared memory is reclaimed by the garbage collector once no thread holds it.
    },
  };
}
