import { AddressSpace, type PhysicalMemory, type RemoteAddressSpace } from '@tsmpi/vm';
import type { VirtualClock } from '../clock.js';
import type { CostModel } from '../cost/model.js';
import { IntranodeError } from '../errors.js';
import { P_JOB, P_STATE, PROC_STRIDE, ProcState, type NodeState } from './node-state.js';
import type { IntranodePeer, IntranodeStats } from './types.js';

/** What every intra-node call of one process needs: its node, memory, clock, prices and counters. */
export class ProcessContext {
  readonly node: NodeState;
  readonly memory: PhysicalMemory;
  readonly space: AddressSpace;
  readonly clock: VirtualClock;
  readonly cost: CostModel;
  readonly pid: number;
  readonly job: number;
  readonly stats: IntranodeStats;
  private readonly remotes = new Map<number, { handle: object; space: RemoteAddressSpace }>();

  constructor(parts: {
    node: NodeState; memory: PhysicalMemory; space: AddressSpace; clock: VirtualClock; cost: CostModel;
    pid: number; job: number; stats: IntranodeStats;
  }) {
    this.node = parts.node;
    this.memory = parts.memory;
    this.space = parts.space;
    this.clock = parts.clock;
    this.cost = parts.cost;
    this.pid = parts.pid;
    this.job = parts.job;
    this.stats = parts.stats;
  }

  get nodeId(): number {
    return this.node.handle.nodeId;
  }

  /**
   * The peer's page table, after the checks the kernel makes before touching another process:
   * on this node and alive (ESRCH), in the same job (EPERM: process_vm_readv's ptrace check,
   * XPMEM's permit mode).
   */
  peerSpace(peer: IntranodePeer, call: string): RemoteAddressSpace {
    if (peer?.kind !== 'intranode-peer') throw new IntranodeError('EINVAL', call, 'the peer must be an IntranodePeer (endpoint.address of the other process)');
    if (peer.nodeId !== this.nodeId) {
      throw new IntranodeError('ESRCH', call, `process ${peer.pid} is on node ${peer.nodeId}, not on this node (${this.nodeId}); use the network between nodes`);
    }
    if (!(Number.isInteger(peer.pid) && peer.pid >= 0 && peer.pid < this.node.limits.maxProcesses)) {
      throw new IntranodeError('ESRCH', call, `no process ${peer.pid} on node ${this.nodeId} (pids are 0..${this.node.limits.maxProcesses - 1})`);
    }
    const row = peer.pid * PROC_STRIDE;
    const state = Atomics.load(this.node.procs, row + P_STATE);
    if (state === ProcState.FREE) {
      throw new IntranodeError('ESRCH', call, `no process ${peer.pid} on node ${this.nodeId}`);
    }
    if (Atomics.load(this.node.procs, row + P_JOB) !== this.job || peer.job !== this.job) {
      throw new IntranodeError('EPERM', call, `process ${peer.pid} belongs to job ${peer.job}, this process to job ${this.job}: only processes of one job may access each other`);
    }
    let r = this.remotes.get(peer.pid);
    if (r === undefined || r.handle !== peer.space) {
      r = { handle: peer.space, space: AddressSpace.remote(this.memory, peer.space) };
      this.remotes.set(peer.pid, r);
    }
    if (state === ProcState.EXITED || r.space.exited) throw new IntranodeError('ESRCH', call, `process ${peer.pid} has exited`);
    return r.space;
  }
}
