import type { TypedArrayCtor } from './typed-buffer.js';

/** What a completed receive or a probe reports (MPI_Status). */
export interface Status {
  /** Sender's rank in the communicator (PROC_NULL for a receive from PROC_NULL). */
  source: number;
  tag: number;
  /** Elements received (of the receive buffer's type; bytes for probes and object messages). */
  count: number;
  /** Bytes of the message. */
  byteCount: number;
  /** A receive withdrawn by request.cancel() before any message matched it (MPI_Test_cancelled). */
  cancelled?: boolean;
}

/** MPI_Get_count: elements of `type` in the message a status describes. */
export function getCount(status: Status, type: TypedArrayCtor): number {
  return Math.floor(status.byteCount / type.BYTES_PER_ELEMENT);
}
