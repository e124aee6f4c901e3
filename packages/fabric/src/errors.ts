/**
 * Typed errors of @tsmpi/fabric. Misuse the hardware would refuse at post time throws; access
 * failures during a transfer are error completions instead (see README, "Queue pairs").
 */
export type FabricErrorCode = 'EINVAL' | 'ENOMEM' | 'EFAULT' | 'EOVERFLOW' | 'ENOTCONN' | 'EPERM' | 'ESRCH' | 'ENOENT' | 'ENETWORK';

export class FabricError extends Error {
  readonly code: FabricErrorCode;
  constructor(code: FabricErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A bad argument; the message names it and says what was expected. */
export class InvalidArgument extends FabricError {
  constructor(message: string) {
    super('EINVAL', message);
  }
}

/**
 * registerMemory failed. code ENOMEM: the locked-memory limit (cause: the vm's
 * MemlockLimitExceeded) or an adapter table is full; EFAULT: the range is not mapped;
 * EINVAL: bad length or access flags.
 */
export class RegistrationError extends FabricError {
  readonly addr: number;
  readonly length: number;
  constructor(code: FabricErrorCode, addr: number, length: number, message: string, cause?: unknown) {
    super(code, `registerMemory(0x${addr.toString(16)}, ${length}): ${message}`, cause === undefined ? undefined : { cause });
    this.addr = addr;
    this.length = length;
  }
}

/** A shared table of the adapter has no room left; raise the limit named in the message. */
export class AdapterTableFull extends FabricError {
  constructor(what: string, limit: string, size: number) {
    super('ENOMEM', `adapter ${what} table is full (${size} entries); pass a larger limits.${limit} to createAdapter`);
  }
}

/** Posting to a QP that is not connected yet. */
export class NotConnected extends FabricError {
  constructor(qpNum: number) {
    super('ENOTCONN', `queue pair ${qpNum} is not connected; call qp.connect(peer.address) on both sides first`);
  }
}

/** More completions arrived than the CQ holds (verbs: a CQ overrun is a fatal async event). */
export class CompletionQueueOverrun extends FabricError {
  constructor(cqId: number, depth: number) {
    super(
      'EOVERFLOW',
      `completion queue ${cqId} overran its depth of ${depth}; completions were lost. ` +
        `Poll more often or create the CQ with a larger depth`,
    );
  }
}

/** A receive queue or parked-send queue is full. */
export class QueueFull extends FabricError {
  constructor(what: string, depth: number, hint: string) {
    super('ENOMEM', `${what} is full (${depth} entries); ${hint}`);
  }
}

/**
 * An intra-node call (process_vm_readv/writev, xpmem_make/get/attach, a shared-memory ring)
 * refused with the errno the Linux call returns: EFAULT (a range is not mapped), EPERM (the peer
 * is outside the job, or the segment's permissions forbid it), ESRCH (no such process on this
 * node, or it exited), ENOENT (no such segment, or it was removed), EINVAL (bad arguments).
 */
export class IntranodeError extends FabricError {
  readonly call: string;
  constructor(code: FabricErrorCode, call: string, message: string) {
    super(code, `${call}: ${message}`);
    this.call = call;
  }
}

/**
 * The network wire lost or refused a peer node process: it closed its connection (its waiting
 * operations completed RETRY_EXCEEDED), never presented the job's token, or sent a frame with an
 * unknown type or an impossible length (the connection was closed). `peer` names it.
 */
export class NetworkError extends FabricError {
  readonly peer: string;
  readonly reason: 'closed' | 'token' | 'frame' | 'connect';
  constructor(reason: 'closed' | 'token' | 'frame' | 'connect', peer: string, message: string) {
    super('ENETWORK', `network wire: ${peer}: ${message}`);
    this.peer = peer;
    this.reason = reason;
  }
}
