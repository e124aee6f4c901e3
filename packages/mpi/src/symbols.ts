/** A communicator's collective twin: same group, separate context, so collective traffic never matches user point-to-point. */
export const kCollective = Symbol('tsmpi.collective');
