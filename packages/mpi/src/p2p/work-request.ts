/**
 * Work-request ids of the engine's posts: what the completion is for (the kind, in the two low
 * bits) and which slot or read (the index, above them). The adapter hands the id back untouched.
 */
export const WorkRequest = { RECV_SLOT: 0, SEND_SLOT: 1, READ: 2 } as const;
export type WorkRequestKind = (typeof WorkRequest)[keyof typeof WorkRequest];

const KIND_SPAN = 4; // two bits

export function workRequestId(kind: WorkRequestKind, index: number): number {
  return index * KIND_SPAN + kind;
}

export function workRequestKind(wrId: number): WorkRequestKind {
  return (wrId % KIND_SPAN) as WorkRequestKind;
}

export function workRequestIndex(wrId: number): number {
  return Math.floor(wrId / KIND_SPAN);
}
