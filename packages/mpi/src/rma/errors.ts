import { MpiError } from '../errors.js';

/** An RMA call outside the epoch it needs (a put with no fence, lock or lockAll open; unlock without lock). */
export class RmaSyncError extends MpiError {
  constructor(message: string) {
    super('MPI_ERR_RMA_SYNC', message);
  }
}

/** An access that falls outside the target's window. */
export class RmaRangeError extends MpiError {
  constructor(message: string) {
    super('MPI_ERR_RMA_RANGE', message);
  }
}

/** A dynamic-window access to memory the target has not attached (or detached), as far as the origin knows. */
export class RmaAttachError extends MpiError {
  constructor(message: string) {
    super('MPI_ERR_RMA_ATTACH', message);
  }
}
