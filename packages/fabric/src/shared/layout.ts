/*
 * Layout of the adapter's shared tables. Ids start at 1 (0 means "none") and the row of id i
 * starts at i × STRIDE. Who writes each field is noted; "owner" is the thread of the domain that
 * created the object.
 */

/** Header cells (Int32). The arena header follows at ARENA_AT, then the domain states. */
export const H_MR_HINT = 0; // next MR slot to try (any registering thread; a hint only)
export const H_QP_HINT = 1;
export const H_QP_CREATED = 2; // queue pairs created on this adapter, ever (connections made on demand count here)
export const ARENA_AT = 8;

export const DOMAIN_FREE = 0;
export const DOMAIN_OPEN = 1;

/** MR table row: Int32 cells. */
export const MR_STRIDE = 16;
export const M_STATE = 0; // MrState; CAS FREE→SETUP by the registering owner; VALID/REVOKED under M_LOCK
export const M_DOMAIN = 1; // owner, during SETUP
export const M_LKEY = 2;
export const M_RKEY = 3;
export const M_ACCESS = 4;
export const M_PAGES_AT = 5; // arena word offset of the page entries (Int32 index = 2 × this)
export const M_PAGE_COUNT = 6;
export const M_LOCK = 7; // held by a DMA for its copy, by deregistration, and by the ODP invalidation
export const M_BACKING = 8; // MrBacking
export const M_RAND = 9; // last random bits used in this slot, so a reused slot never repeats a key
/** MR table row: Float64 cells. */
export const MRF_STRIDE = 4;
export const MF_ADDR = 0;
export const MF_LENGTH = 1;
export const MF_FIRST_PAGE = 2;

export const MrState = { FREE: 0, SETUP: 1, VALID: 2, REVOKED: 3 } as const;
export const MrBacking = { PIN: 0, MLOCK: 1, ODP: 2 } as const;
/** ODP page entry: frame × 2 + writable, or EMPTY. */
export const PAGE_EMPTY = -1;

/** Queue-pair row (Int32). Written by the owner at create / connect; read by peers. */
export const QP_STRIDE = 16;
export const Q_STATE = 0; // 0 free, 1 created, 2 connected, 3 error
export const Q_DOMAIN = 1;
export const Q_SEND_CQ = 2;
export const Q_RECV_CQ = 3;
export const Q_RQ = 4;
export const Q_RNR = 5; // rnrRetry; 7 = infinite
export const Q_REMOTE_NODE = 6;
export const Q_REMOTE_QPN = 7;
export const Q_REMOTE_DOMAIN = 8;
/** In the error state: the status that put it there (qp-error.ts), | ERROR_LINK_DOWN when the link caused it; 0 otherwise. */
export const Q_ERROR = 9;
export const ERROR_LINK_DOWN = 0x100;
export const QpState = { FREE: 0, CREATED: 1, CONNECTED: 2, ERROR: 3 } as const;

/** Completion-queue row (Int32). */
export const CQ_STRIDE = 16;
export const C_STATE = 0;
export const C_DOMAIN = 1;
export const C_RING = 2; // arena word offset; entries of CQE_WORDS Float64
export const C_DEPTH = 3;
export const C_HEAD = 4; // consumer (owner) only
export const C_TAIL = 5; // producers, under C_LOCK
export const C_DOORBELL = 6; // +1 per push; Atomics.wait target
export const C_LOCK = 7;
export const C_OVERRUN = 8;
export const C_WAITERS = 9; // owner threads inside wait(): a push notifies only when this is non-zero
export const C_HELD = 10; // operations shipped to another node whose answer has not come back (network wire), under C_LOCK
export const CQE_WORDS = 8;
export const CQE_STATUS = 0;
export const CQE_OPCODE = 1;
export const CQE_BYTES = 2;
export const CQE_WRID = 3;
export const CQE_QPN = 4;
export const CQE_IMM = 5; // -1: none
export const CQE_TIME = 6;

/** Receive-queue row (Int32): posted receives and parked sends, both under R_LOCK. */
export const RQ_STRIDE = 16;
export const R_STATE = 0;
export const R_DOMAIN = 1;
export const R_RING = 2;
export const R_DEPTH = 3;
export const R_HEAD = 4;
export const R_TAIL = 5;
export const R_LOCK = 6;
export const R_PARK_RING = 7; // -1: not allocated yet; grows by doubling
export const R_PARK_DEPTH = 8;
export const R_PARK_HEAD = 9;
export const R_PARK_TAIL = 10;
export const R_SHARED = 11; // 1 for an SRQ
export const RQE_WORDS = 6;
export const RQE_WRID = 0;
export const RQE_LKEY = 1;
export const RQE_ADDR = 2;
export const RQE_LENGTH = 3;
export const RQE_POSTED_AT = 4; // virtual µs of the postRecv
/** A parked send: everything the receiver's thread needs to pull it later. */
export const PKE_WORDS = 13;
export const PKE_SRC_NODE = 0;
export const PKE_SRC_QPN = 1;
export const PKE_DST_QPN = 2;
export const PKE_LKEY = 3;
export const PKE_ADDR = 4;
export const PKE_LENGTH = 5;
export const PKE_WRID = 6;
export const PKE_IMM = 7;
export const PKE_ARRIVE = 8;
export const PKE_SIGNALED = 9;
/** A send from another process (network wire): its bytes, copied into the arena (word offset), or -1. */
export const PKE_PAYLOAD = 10;
export const PKE_SRC_CHUNKS = 11; // ODP chunks its sender faulted gathering them
export const PKE_SEQ = 12; // the sender's sequence number, echoed in its completion
