export const PACKAGE = '@tsmpi/mpi';
