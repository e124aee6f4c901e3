/**
 * Access flags, completion statuses and opcodes. The numbers are the verbs ones
 * (ibv_access_flags, ibv_wc_status, ibv_wc_opcode) so a reader who knows verbs reads them as-is.
 */
export const Access = {
  LOCAL_WRITE: 1,
  REMOTE_WRITE: 2,
  REMOTE_READ: 4,
  /** 8-byte fetch-and-add and compare-and-swap by a peer (IBV_ACCESS_REMOTE_ATOMIC; needs LOCAL_WRITE too). */
  REMOTE_ATOMIC: 8,
} as const;
export const ACCESS_ALL = Access.LOCAL_WRITE | Access.REMOTE_WRITE | Access.REMOTE_READ | Access.REMOTE_ATOMIC;

export const Status = {
  SUCCESS: 0,
  LOCAL_LENGTH_ERROR: 1,
  LOCAL_PROTECTION_ERROR: 4,
  WR_FLUSH_ERROR: 5,
  REMOTE_INVALID_REQUEST: 9,
  REMOTE_ACCESS_ERROR: 10,
  REMOTE_OPERATION_ERROR: 11,
  RETRY_EXCEEDED: 12,
} as const;
export type StatusName = keyof typeof Status;
export const STATUS_NAMES = Object.keys(Status) as StatusName[];

const nameByCode = new Map<number, StatusName>(STATUS_NAMES.map((n) => [Status[n], n]));

/** The name of a completion status, e.g. statusName(10) === 'REMOTE_ACCESS_ERROR'. */
export function statusName(status: number): StatusName | `UNKNOWN_${number}` {
  return nameByCode.get(status) ?? `UNKNOWN_${status}`;
}

export const Opcode = {
  SEND: 0,
  RDMA_WRITE: 1,
  RDMA_READ: 2,
  COMP_SWAP: 3,
  FETCH_ADD: 4,
  RECV: 128,
} as const;

/** rnrRetry = 7 means "retry forever" in verbs; 'infinite' is the readable spelling. */
export const RNR_INFINITE = 7;
