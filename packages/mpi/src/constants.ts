/** Receive from any rank (MPI_ANY_SOURCE). */
export const ANY_SOURCE = -1;
/** Receive any tag (MPI_ANY_TAG). */
export const ANY_TAG = -1;
/** The null process: sends to it and receives from it complete at once and move nothing. */
export const PROC_NULL = -2;
/** Returned by split() callers to leave the new communicator out (MPI_UNDEFINED). */
export const UNDEFINED = -32766;
/** A collective's root on an intercommunicator, passed by the root itself (MPI_ROOT); the rest of its group passes PROC_NULL. */
export const ROOT = -3;
/** splitType(): the ranks that share memory, i.e. one simulated node (MPI_COMM_TYPE_SHARED). */
export const COMM_TYPE_SHARED = 1;
/** Results of Group.compare() and Comm.compare() (MPI_IDENT, MPI_CONGRUENT, MPI_SIMILAR, MPI_UNEQUAL). */
export const IDENT = 0;
export const CONGRUENT = 1;
export const SIMILAR = 2;
export const UNEQUAL = 3;
/**
 * MPI_IN_PLACE: passed as a collective's send buffer (or scatter's receive buffer at the root),
 * says the data is already where the result goes. Only where MPI allows it (see collectives/in-place.ts).
 */
export const IN_PLACE: unique symbol = Symbol('IN_PLACE');
export type InPlace = typeof IN_PLACE;
