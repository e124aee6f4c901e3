/*
 * The network wire's frames. Every frame is
 *
 *   u32 body length (little-endian) │ u8 type │ fixed header of the type │ payload (SEND, WRITE, READ_DATA)
 *
 * The body length counts the type byte, the header and the payload. Headers are fixed binary
 * layouts (offsets below, from the type byte); only HELLO's body is msgpack (a control message).
 * Payload bytes are never encoded: they are the transfer's bytes, as they were in memory.
 *
 * Virtual time crosses as float64 in the headers: the initiator's clock at the post (t0) and,
 * for SEND and WRITE, when the first byte left its transmit port (start); a READ's data frame
 * carries when it left the responder's transmit port. Each side then runs the same
 * transferTimes() as one process does, with its own port reserved by itself (see responder.ts).
 */

export const FrameType = {
  HELLO: 1,
  SEND: 2,
  WRITE: 3,
  READ: 4,
  /** Responder → initiator: an operation completed, was parked, or its counters moved. */
  COMPLETE: 5,
  /** Responder → initiator: an RDMA read's data, or an atomic's old value. */
  READ_DATA: 6,
  /** A fetch-and-add or compare-and-swap: the Op header, then compareAdd and swap (two int64). */
  ATOMIC: 7,
  /**
   * Exact timing across processes: the bounds of the sender's ranks (no action of each before that
   * virtual time), after every operation those ranks posted before it on this connection.
   */
  PROMISE: 8,
} as const;

/** Bytes before the body: the u32 body length. */
export const LENGTH_BYTES = 4;
/** No frame body is larger: a transfer of more than this would be refused at post. */
export const MAX_BODY_BYTES = 1 << 30;

/** SEND, WRITE, READ: one header layout (offsets from the type byte). */
export const Op = {
  FLAGS: 1, // u8: bit 0 signaled; bits 1..3 the initiator QP's rnrRetry; ATOMIC: bit 4 compare-and-swap
  SRC_NODE: 4, // u32
  SRC_QPN: 8, // u32
  DST_QPN: 12, // u32
  SEQ: 16, // f64: set by the initiator's network thread; echoed in every answer
  WR_ID: 24, // f64
  T0: 32, // f64: the initiator's clock when it posted
  START: 40, // f64: SEND / WRITE: the first byte left the initiator's transmit port
  IMM: 48, // f64: SEND immediate data (-1: none); WRITE / READ: remote address
  RKEY: 56, // u32
  SRC_CHUNKS: 60, // u32: ODP chunks the initiator faulted gathering its bytes
  LENGTH: 64, // u32 (SEND / WRITE: the payload's length)
  LKEY: 68, // u32: READ: the local key, echoed in READ_DATA
  LOCAL_ADDR: 72, // f64: READ / ATOMIC: the local address, echoed in READ_DATA
  ORIGIN: 80, // u32: who posted it, in the sequencer's numbering (the world rank); ties at one T0 go by it
  HEADER: 88,
} as const;

/** ATOMIC: the operands after the Op header (little-endian int64). */
export const Operands = { COMPARE_ADD: 0, SWAP: 8, BYTES: 16 } as const;
export const ATOMIC_CAS_FLAG = 16;

/** COMPLETE (offsets from the type byte). */
export const Done = {
  STATUS: 1, // u8
  OPCODE: 2, // u8
  BITS: 3, // u8: DoneBits
  QPN: 4, // u32: the initiator's QP
  SEQ: 8, // f64
  WR_ID: 16, // f64
  TIME: 24, // f64
  BYTES: 32, // f64: SEND / WRITE: the operation's length (the completion's byteLength on success); READ: byteLength
  HEADER: 40,
} as const;

/**
 * What the initiator's network thread does with a COMPLETE. (SEND and WRITE are counted in
 * sendOps / writeOps by the rank when it posts them, as one process counts them before the post
 * returns; a COMPLETE with an error status takes the count back.)
 */
export const DoneBits = {
  /** Push a completion into the QP's send CQ. */
  PUSH: 1,
  /** The operation is over: forget it (it no longer fails if the connection drops). */
  FINAL: 2,
  /** RETRY_EXCEEDED because the target QP is in the error state the link put it in: the initiator's error names the link. */
  LINK_DOWN: 4,
  RNR_PARKED: 16,
  RNR_EXCEEDED: 32,
  RNR_DELIVERED: 64,
} as const;

/** READ_DATA (offsets from the type byte); the payload follows. */
export const Data = {
  SIGNALED: 1, // u8
  OPCODE: 2, // u8: RDMA_READ, FETCH_ADD or COMP_SWAP
  QPN: 4, // u32
  SEQ: 8, // f64
  WR_ID: 16, // f64
  T0: 24, // f64
  START: 32, // f64: the data left the responder's transmit port
  LKEY: 40, // u32
  SRC_CHUNKS: 44, // u32
  LOCAL_ADDR: 48, // f64
  LENGTH: 56, // u32
  HEADER: 64,
} as const;

/** PROMISE (offsets from the type byte): COUNT entries of (u32 origin, f64 bound) from ENTRIES on. */
export const Promised = { COUNT: 4, ENTRIES: 8, ENTRY: 12, ORIGIN: 0, BOUND: 4 } as const;

/** Smallest body of each type (a shorter one is not a frame of that type). */
export const MIN_BODY: Readonly<Record<number, number>> = {
  [FrameType.HELLO]: 2,
  [FrameType.SEND]: Op.HEADER,
  [FrameType.WRITE]: Op.HEADER,
  [FrameType.READ]: Op.HEADER,
  [FrameType.ATOMIC]: Op.HEADER + Operands.BYTES,
  [FrameType.COMPLETE]: Done.HEADER,
  [FrameType.READ_DATA]: Data.HEADER,
  [FrameType.PROMISE]: Promised.ENTRIES,
};

/** A frame body being written: a DataView over its bytes, offsets from the type byte. */
export class FrameWriter {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly at: number;

  /** Room for the length prefix and `body` bytes, at `at` in `bytes` (or a fresh buffer). */
  constructor(type: number, body: number, bytes?: Uint8Array, at = 0) {
    this.bytes = bytes ?? new Uint8Array(LENGTH_BYTES + body);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    this.at = at + LENGTH_BYTES;
    this.view.setUint32(at, body, true);
    this.view.setUint8(this.at, type);
  }

  u8(off: number, v: number): this {
    this.view.setUint8(this.at + off, v);
    return this;
  }

  u32(off: number, v: number): this {
    this.view.setUint32(this.at + off, v >>> 0, true);
    return this;
  }

  f64(off: number, v: number): this {
    this.view.setFloat64(this.at + off, v, true);
    return this;
  }
}

/** Reading a received frame body (offsets from the type byte, which is at `at`). */
export class FrameReader {
  readonly view: DataView;
  constructor(readonly bytes: Uint8Array, readonly at: number) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get type(): number {
    return this.bytes[this.at]!;
  }

  u8(off: number): number {
    return this.view.getUint8(this.at + off);
  }

  u32(off: number): number {
    return this.view.getUint32(this.at + off, true);
  }

  f64(off: number): number {
    return this.view.getFloat64(this.at + off, true);
  }

  /** The bytes after a header of `header` bytes, up to the body's end (`bodyEnd`, exclusive). */
  payload(header: number, length: number): Uint8Array {
    return this.bytes.subarray(this.at + header, this.at + header + length);
  }
}
