import { Opcode, Status } from '../constants.js';
import { dmaCopy, type CopyOutcome } from '../dma/copy.js';
import type { SendSource } from '../dma/deliver.js';
import type { RegionAccess } from '../dma/region-access.js';
import { Done, DoneBits, FrameType, FrameWriter } from './frames.js';

/** Who sent it and how to answer: enough to build the sender's COMPLETE frame. */
export interface RemoteSender {
  nodeId: number;
  qpNum: number;
  seq: number;
  wrId: number;
  signaled: boolean;
}

/**
 * A send whose bytes came over the network wire (in a frame, or parked in the arena): delivered by
 * deliverSend like any other, its sender's completion leaves as a COMPLETE frame through `reply`.
 */
export class PayloadSend implements SendSource {
  readonly nodeId: number;

  /**
   * `srcChunks`: ODP chunks the sender faulted gathering the bytes (priced with the receiver's).
   * `onSuccess`: extra DoneBits for a delivered send (RNR_DELIVERED when it had been parked).
   * `release`: called once the bytes are no longer needed.
   */
  constructor(
    private readonly sender: RemoteSender,
    private readonly parts: readonly Uint8Array[],
    readonly length: number,
    readonly immData: number,
    private readonly srcChunks: number,
    private readonly reply: (node: number, frame: Uint8Array) => void,
    private readonly onSuccess = 0,
    private readonly release?: () => void,
  ) {
    this.nodeId = sender.nodeId;
  }

  valid(): boolean {
    return true; // its key was checked when it was posted, and its bytes are here
  }

  copyInto(dst: RegionAccess, chunkBytes: number): CopyOutcome {
    const out = dmaCopy({ parts: this.parts }, dst, chunkBytes);
    return out.ok ? { ok: true, faultChunks: out.faultChunks + this.srcChunks } : out;
  }

  done(status: number, at: number): void {
    this.release?.();
    const ok = status === Status.SUCCESS;
    const bits = DoneBits.FINAL | (!ok || this.sender.signaled ? DoneBits.PUSH : 0) | (ok ? this.onSuccess : 0);
    this.reply(this.sender.nodeId, completeFrame(this.sender, Opcode.SEND, status, bits, at, this.length));
  }
}

/** A COMPLETE frame for `to`'s operation. */
export function completeFrame(to: { qpNum: number; seq: number; wrId: number }, opcode: number, status: number, bits: number,
  time: number, bytes: number): Uint8Array {
  return new FrameWriter(FrameType.COMPLETE, Done.HEADER)
    .u8(Done.STATUS, status).u8(Done.OPCODE, opcode).u8(Done.BITS, bits).u32(Done.QPN, to.qpNum)
    .f64(Done.SEQ, to.seq).f64(Done.WR_ID, to.wrId).f64(Done.TIME, time).f64(Done.BYTES, bytes).bytes;
}
