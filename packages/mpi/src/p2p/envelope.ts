/**
 * The header every eager slot starts with. Little-endian, fixed 40 bytes:
 *
 *   0  u8  kind        EAGER | RTS | FIN | SHM (an eager message whose payload follows in the shm ring)
 *   1  u8  flags       ERROR (FIN: the receiver could not read the data); CMA / XPMEM (RTS: read the
 *                      data by that single-copy transport instead of RDMA; rkey then holds the xpmem segid)
 *   2  u16 from        sender's world rank (routes FIN and RDMA reads, keys sequence numbers)
 *   4  i32 context     communicator context id (even: point-to-point; odd: its collective twin)
 *   8  i32 source      sender's rank in that communicator
 *  12  i32 tag
 *  16  u32 length      payload bytes of the message (for RTS: of the user buffer to read)
 *  20  u32 seq         per (sender, receiver) sequence number: arrivals are matched in this order
 *  24  u32 sendId      the sender's request id (RTS, echoed by FIN)
 *  28  u32 rkey        RTS: remote key of the sender's registration
 *  32  f64 addr        RTS: virtual address of the sender's buffer
 *  40  ... payload (EAGER only)
 */
export const ENVELOPE_BYTES = 40;

/** Byte offset of each field in the header (the table above); the codec is the only reader and writer. */
export const EnvelopeOffset = {
  KIND: 0, FLAGS: 1, FROM: 2, CONTEXT: 4, SOURCE: 8, TAG: 12, LENGTH: 16, SEQ: 20, SEND_ID: 24, RKEY: 28, ADDR: 32,
} as const;
const O = EnvelopeOffset;

export const Kind = { EAGER: 1, RTS: 2, FIN: 3, SHM: 4 } as const;
export type KindValue = (typeof Kind)[keyof typeof Kind];
/**
 * SYNC: a synchronous eager send; the receiver answers FIN (sendId) once a receive has matched it.
 * PIPELINE: an RTS, chunk announcement or FIN of the pipelined rendezvous (protocols/rendezvous-pipeline.ts);
 * CHUNK: an RTS that announces one more chunk of a message already announced (addr/rkey/length: the chunk).
 * RECEIVER: with ERROR on a FIN, the receiver's own buffer was at fault (the sender's was fine).
 * SGE: an RTS of a non-contiguous send whose payload lists its segments (protocols/rendezvous-sge.ts).
 */
export const Flags = { ERROR: 1, CMA: 2, XPMEM: 4, SYNC: 8, PIPELINE: 16, CHUNK: 32, RECEIVER: 64, SGE: 128 } as const;

export interface Envelope {
  kind: KindValue;
  flags: number;
  from: number;
  context: number;
  source: number;
  tag: number;
  length: number;
  seq: number;
  sendId: number;
  rkey: number;
  addr: number;
}

// One scratch header per thread (module instances are per worker), reused by every encode and
// decode: a DataView per message was a tenth of the small-message CPU path. Fields are written
// little-endian explicitly, so the bytes in simulated memory do not depend on the host.
const scratch = new ArrayBuffer(ENVELOPE_BYTES);
const view = new DataView(scratch);
const bytes = new Uint8Array(scratch);

export function encodeEnvelope(e: Envelope, into: Uint8Array): void {
  view.setUint8(O.KIND, e.kind);
  view.setUint8(O.FLAGS, e.flags);
  view.setUint16(O.FROM, e.from, true);
  view.setInt32(O.CONTEXT, e.context, true);
  view.setInt32(O.SOURCE, e.source, true);
  view.setInt32(O.TAG, e.tag, true);
  view.setUint32(O.LENGTH, e.length, true);
  view.setUint32(O.SEQ, e.seq >>> 0, true);
  view.setUint32(O.SEND_ID, e.sendId >>> 0, true);
  view.setUint32(O.RKEY, e.rkey >>> 0, true);
  view.setFloat64(O.ADDR, e.addr, true);
  into.set(bytes);
}

export function decodeEnvelope(from: Uint8Array): Envelope {
  bytes.set(from.length === ENVELOPE_BYTES ? from : from.subarray(0, ENVELOPE_BYTES));
  return {
    kind: view.getUint8(O.KIND) as KindValue,
    flags: view.getUint8(O.FLAGS),
    from: view.getUint16(O.FROM, true),
    context: view.getInt32(O.CONTEXT, true),
    source: view.getInt32(O.SOURCE, true),
    tag: view.getInt32(O.TAG, true),
    length: view.getUint32(O.LENGTH, true),
    seq: view.getUint32(O.SEQ, true),
    sendId: view.getUint32(O.SEND_ID, true),
    rkey: view.getUint32(O.RKEY, true),
    addr: view.getFloat64(O.ADDR, true),
  };
}
