import { Datatype } from './datatype/datatype.js';
import { getCountOf } from './datatype/counts.js';
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
  /** Set only in the statuses of an ErrorInStatus (MPI_ERR_IN_STATUS): this request's own error. */
  error?: Error;
}

/**
 * MPI_Get_count: elements of `type` in the message a status describes. With a Datatype, whole
 * elements of it, or UNDEFINED when the message ends inside one (getElements counts basic elements).
 */
export function getCount(status: Status, type: TypedArrayCtor | Datatype): number {
  if (type instanceof Datatype) return getCountOf(status, type);
  return Math.floor(status.byteCount / type.BYTES_PER_ELEMENT);
}
