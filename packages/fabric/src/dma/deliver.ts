import type { PhysicalMemory, RemoteAddressSpace } from '@tsmpi/vm';
import { Opcode, Status } from '../constants.js';
import { latencyUs, odpFaultCost } from '../cost/formulas.js';
import type { CostModel } from '../cost/model.js';
import { checkKey, NEED_LOCAL_WRITE, NEED_NONE } from '../mr/table.js';
import { pushCompletion } from '../queues/completion-queue.js';
import type { PostedRecv } from '../queues/receive-queue.js';
import type { AdapterState } from '../shared/state.js';
import { Counter, bump } from '../stats.js';
import { dmaCopy } from './copy.js';

/** The sending side of a two-sided transfer, as seen by the thread that delivers it. */
export interface SendSide {
  state: AdapterState;
  memory: PhysicalMemory;
  /** The sender's page table, seen from the delivering thread. */
  space: RemoteAddressSpace;
  nodeId: number;
  domainId: number;
  qpNum: number;
  sendCq: number;
  lkey: number;
  addr: number;
  length: number;
  wrId: number;
  immData: number;
  signaled: boolean;
}

/** The receiving side. */
export interface RecvSide {
  state: AdapterState;
  memory: PhysicalMemory;
  space: RemoteAddressSpace;
  nodeId: number;
  domainId: number;
  qpNum: number;
  recvCq: number;
}

export type DeliveryOutcome = 'delivered' | 'receiver-error' | 'sender-error';

/**
 * Copy a send into a posted receive and complete both sides. `dataAt` is when the data reaches
 * the receiver (virtual µs); the sender's completion follows one latency later (the ack).
 * A 'sender-error' leaves the receive unconsumed (the caller may give it to the next send);
 * every other outcome consumes it.
 */
export function deliverSend(cost: CostModel, s: SendSide, r: RecvSide, recv: PostedRecv, dataAt: number): DeliveryOutcome {
  const L = latencyUs(cost, s.nodeId === r.nodeId);
  const srcSlot = s.length === 0 ? 0 : checkKey(s.state, s.lkey, 'lkey', s.domainId, s.addr, s.length, NEED_NONE);
  if (typeof srcSlot !== 'number') {
    sendDone(s, Status.LOCAL_PROTECTION_ERROR, dataAt + L);
    return 'sender-error';
  }
  if (s.length > recv.length) {
    recvDone(s, r, recv, Status.LOCAL_LENGTH_ERROR, dataAt, 0);
    sendDone(s, Status.REMOTE_INVALID_REQUEST, dataAt + L);
    return 'receiver-error';
  }
  let faultUs = 0;
  if (s.length > 0) {
    const dstSlot = checkKey(r.state, recv.lkey, 'lkey', r.domainId, recv.addr, recv.length, NEED_LOCAL_WRITE);
    if (typeof dstSlot !== 'number') {
      recvDone(s, r, recv, Status.LOCAL_PROTECTION_ERROR, dataAt, 0);
      sendDone(s, Status.REMOTE_OPERATION_ERROR, dataAt + L);
      return 'receiver-error';
    }
    const out = dmaCopy(
      { state: s.state, memory: s.memory, space: s.space, nodeId: s.nodeId, slot: srcSlot, key: s.lkey, which: 'lkey',
        addr: s.addr, length: s.length, write: false },
      { state: r.state, memory: r.memory, space: r.space, nodeId: r.nodeId, slot: dstSlot, key: recv.lkey, which: 'lkey',
        addr: recv.addr, length: s.length, write: true },
      cost.odpFaultChunkBytes,
    );
    if (!out.ok) {
      if (out.side === 'src') {
        // The sender's buffer vanished under the copy: nothing was delivered.
        sendDone(s, Status.LOCAL_PROTECTION_ERROR, dataAt + L);
        recvDone(s, r, recv, Status.WR_FLUSH_ERROR, dataAt, 0);
      } else {
        recvDone(s, r, recv, Status.LOCAL_PROTECTION_ERROR, dataAt, 0);
        sendDone(s, Status.REMOTE_OPERATION_ERROR, dataAt + L);
      }
      return 'receiver-error';
    }
    faultUs = odpFaultCost(cost, out.faultChunks);
  }
  bump(s.state.counters, s.domainId, Counter.sendOps);
  bump(s.state.counters, s.domainId, Counter.sendBytes, s.length);
  bump(r.state.counters, r.domainId, Counter.recvOps);
  bump(r.state.counters, r.domainId, Counter.recvBytes, s.length);
  recvDone(s, r, recv, Status.SUCCESS, dataAt + faultUs, s.length);
  sendDone(s, Status.SUCCESS, dataAt + faultUs + L);
  return 'delivered';
}

// Module-level rather than closures: esbuild's keepNames wraps every closure creation, which
// showed up at ~9% of a small send's cost.
function sendDone(s: SendSide, status: number, at: number): void {
  if (status !== Status.SUCCESS || s.signaled) {
    pushCompletion(s.state, s.sendCq, { status, opcode: Opcode.SEND, byteLength: status === 0 ? s.length : 0,
      wrId: s.wrId, qpNum: s.qpNum, immData: -1, time: at });
  }
}

function recvDone(s: SendSide, r: RecvSide, recv: PostedRecv, status: number, at: number, bytes: number): void {
  pushCompletion(r.state, r.recvCq, { status, opcode: Opcode.RECV, byteLength: bytes, wrId: recv.wrId, qpNum: r.qpNum,
    immData: status === Status.SUCCESS ? s.immData : -1, time: at });
}
