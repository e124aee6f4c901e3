import type { PhysicalMemory, RemoteAddressSpace } from '@tsmpi/vm';
import { Opcode, Status } from '../constants.js';
import { latencyUs, odpFaultCost } from '../cost/formulas.js';
import type { CostModel } from '../cost/model.js';
import { checkKey, NEED_LOCAL_WRITE, NEED_NONE } from '../mr/table.js';
import { pushCompletionOf } from '../queues/completion-queue.js';
import { fatalStatus, markError } from '../qp-error.js';
import type { PostedRecv } from '../queues/receive-queue.js';
import type { AdapterState } from '../shared/state.js';
import { Counter, bump } from '../stats.js';
import { dmaCopy, type CopyOutcome } from './copy.js';
import type { RegionAccess } from './region-access.js';

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

/**
 * Where a send's bytes come from and where its sender hears of it: the sender's region in this
 * process (LocalSend), or bytes that came over the network wire with a completion frame to send back.
 */
export interface SendSource {
  readonly nodeId: number;
  readonly length: number;
  readonly immData: number;
  /** The sender's key still names a live region of its domain (it is checked again at delivery). */
  valid(): boolean;
  /** Move the bytes into the receive target. */
  copyInto(dst: RegionAccess, chunkBytes: number): CopyOutcome;
  /** The sender's completion at virtual time `at`; a success also counts the send in the sender's domain. */
  done(status: number, at: number): void;
}

/** A send whose sender's region is in this process (its adapter's tables are attached here). */
export class LocalSend implements SendSource {
  readonly nodeId: number;
  readonly length: number;
  readonly immData: number;
  private slot = 0;
  constructor(private readonly s: SendSide) {
    this.nodeId = s.nodeId;
    this.length = s.length;
    this.immData = s.immData;
  }

  valid(): boolean {
    const s = this.s;
    if (s.length === 0) return true;
    const slot = checkKey(s.state, s.lkey, 'lkey', s.domainId, s.addr, s.length, NEED_NONE);
    if (typeof slot !== 'number') return false;
    this.slot = slot;
    return true;
  }

  copyInto(dst: RegionAccess, chunkBytes: number): CopyOutcome {
    const s = this.s;
    return dmaCopy(access(SRC, s.state, s.memory, s.space, s.nodeId, this.slot, s.lkey, s.addr, s.length, false), dst, chunkBytes);
  }

  done(status: number, at: number): void {
    const s = this.s;
    if (status === Status.SUCCESS) {
      bump(s.state.counters, s.domainId, Counter.sendOps);
      bump(s.state.counters, s.domainId, Counter.sendBytes, s.length);
    }
    // from whichever thread delivers (a parked send is delivered by its receiver's post), marked before the
    // completion its rank may act on; the QP's own thread flushes the rest at its next post
    if (fatalStatus(status)) markError(s.state, s.qpNum, status);
    if (status !== Status.SUCCESS || s.signaled) {
      pushCompletionOf(s.state, s.sendCq, status, Opcode.SEND, status === 0 ? s.length : 0, s.wrId, s.qpNum, -1, at);
    }
  }
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
export function deliverSend(cost: CostModel, s: SendSource, r: RecvSide, recv: PostedRecv, dataAt: number): DeliveryOutcome {
  const L = latencyUs(cost, s.nodeId === r.nodeId);
  if (!s.valid()) {
    s.done(Status.LOCAL_PROTECTION_ERROR, dataAt + L);
    return 'sender-error';
  }
  if (s.length > recv.length) {
    recvDone(s, r, recv, Status.LOCAL_LENGTH_ERROR, dataAt, 0);
    s.done(Status.REMOTE_INVALID_REQUEST, dataAt + L);
    return 'receiver-error';
  }
  let faultUs = 0;
  if (s.length > 0) {
    const dstSlot = checkKey(r.state, recv.lkey, 'lkey', r.domainId, recv.addr, recv.length, NEED_LOCAL_WRITE);
    if (typeof dstSlot !== 'number') {
      recvDone(s, r, recv, Status.LOCAL_PROTECTION_ERROR, dataAt, 0);
      s.done(Status.REMOTE_OPERATION_ERROR, dataAt + L);
      return 'receiver-error';
    }
    const out = s.copyInto(access(DST, r.state, r.memory, r.space, r.nodeId, dstSlot, recv.lkey, recv.addr, s.length, true),
      cost.odpFaultChunkBytes);
    if (!out.ok) {
      if (out.side === 'src') {
        // The sender's buffer vanished under the copy: nothing was delivered.
        s.done(Status.LOCAL_PROTECTION_ERROR, dataAt + L);
        recvDone(s, r, recv, Status.WR_FLUSH_ERROR, dataAt, 0);
      } else {
        recvDone(s, r, recv, Status.LOCAL_PROTECTION_ERROR, dataAt, 0);
        s.done(Status.REMOTE_OPERATION_ERROR, dataAt + L);
      }
      return 'receiver-error';
    }
    faultUs = odpFaultCost(cost, out.faultChunks);
  }
  bump(r.state.counters, r.domainId, Counter.recvOps);
  bump(r.state.counters, r.domainId, Counter.recvBytes, s.length);
  recvDone(s, r, recv, Status.SUCCESS, dataAt + faultUs, s.length);
  s.done(Status.SUCCESS, dataAt + faultUs + L);
  return 'delivered';
}

// Module-level rather than closures: esbuild's keepNames wraps every closure creation, which
// showed up at ~9% of a small send's cost.
function recvDone(s: SendSource, r: RecvSide, recv: PostedRecv, status: number, at: number, bytes: number): void {
  // the responder's QP fails too (verbs: a receive completed in error moves its QP to the error state)
  if (fatalStatus(status)) markError(r.state, r.qpNum, status);
  pushCompletionOf(r.state, r.recvCq, status, Opcode.RECV, bytes, recv.wrId, r.qpNum, status === Status.SUCCESS ? s.immData : -1, at);
}

/*
 * The two sides of the copy under way, filled in place for each delivery: a delivery runs to its end
 * before the next begins on this thread, and dmaCopy keeps neither side past its return.
 */
const SRC = blankAccess();
const DST = blankAccess();

function blankAccess(): RegionAccess {
  return { state: undefined!, memory: undefined!, space: undefined!, nodeId: 0, slot: 0, key: 0, which: 'lkey', addr: 0, length: 0, write: false };
}

function access(
  a: RegionAccess, state: AdapterState, memory: PhysicalMemory, space: RemoteAddressSpace, nodeId: number, slot: number, lkey: number,
  addr: number, length: number, write: boolean,
): RegionAccess {
  a.state = state;
  a.memory = memory;
  a.space = space;
  a.nodeId = nodeId;
  a.slot = slot;
  a.key = lkey;
  a.addr = addr;
  a.length = length;
  a.write = write;
  return a;
}
