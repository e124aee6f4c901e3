/** Receive from any rank (MPI_ANY_SOURCE). */
export const ANY_SOURCE = -1;
/** Receive any tag (MPI_ANY_TAG). */
export const ANY_TAG = -1;
/** The null process: sends to it and receives from it complete at once and move nothing. */
export const PROC_NULL = -2;
/** Returned by split() callers to leave the new communicator out (MPI_UNDEFINED). */
export const UNDEFINED = -32766;
