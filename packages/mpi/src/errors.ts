import type { Status } from './status.js';

/**
 * One home for every error @tsmpi/mpi raises. Each has a stable `code` (MPI error classes where one
 * exists) and a message that says what was wrong and what to do about it.
 */
export type MpiErrorCode =
  | 'MPI_ERR_RANK'
  | 'MPI_ERR_TAG'
  | 'MPI_ERR_BUFFER'
  | 'MPI_ERR_TYPE'
  | 'MPI_ERR_COUNT'
  | 'MPI_ERR_ARG'
  | 'MPI_ERR_OP'
  | 'MPI_ERR_IN_STATUS'
  | 'MPI_ERR_TRUNCATE'
  | 'MPI_ERR_REQUEST'
  | 'MPI_ERR_COMM'
  | 'MPI_ERR_GROUP'
  | 'MPI_ERR_OTHER'
  | 'MPI_ERR_INTERN'
  | 'MPI_ERR_NO_MEM'
  | 'MPI_ERR_RMA_SYNC'
  | 'MPI_ERR_RMA_RANGE'
  | 'MPI_ERR_RMA_ATTACH'
  | 'TSMPI_NOT_IN_RANK'
  | 'TSMPI_ABORTED'
  | 'TSMPI_DEADLOCK'
  | 'TSMPI_RANK_FAILED'
  | 'TSMPI_TRANSFER'
  | 'TSMPI_USAGE'
  | 'TSMPI_PMI'
  | 'TSMPI_WIREUP'
  | 'TSMPI_CONNECTION';

export class MpiError extends Error {
  readonly code: MpiErrorCode;
  constructor(code: MpiErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A rank argument outside [0, size) (and not ANY_SOURCE / PROC_NULL where those are allowed). */
export class InvalidRank extends MpiError {
  constructor(what: string, rank: unknown, size: number, wildcardsAllowed: boolean) {
    super(
      'MPI_ERR_RANK',
      `${what} rank ${String(rank)} is not valid in a communicator of size ${size}: use an integer in [0, ${size - 1}]` +
        (wildcardsAllowed ? ', ANY_SOURCE or PROC_NULL' : ' or PROC_NULL'),
    );
  }
}

export class InvalidTag extends MpiError {
  constructor(tag: unknown, wildcardAllowed: boolean) {
    super(
      'MPI_ERR_TAG',
      `tag ${String(tag)} is not valid: use an integer in [0, ${TAG_UB}]` + (wildcardAllowed ? ' or ANY_TAG' : '') +
        (wildcardAllowed ? '' : ' (ANY_TAG is only allowed when receiving or probing)'),
    );
  }
}

/** Largest user tag (MPI_TAG_UB); the envelope keeps tags in 31 bits. */
export const TAG_UB = 0x3fff_ffff;

export class InvalidBuffer extends MpiError {
  constructor(message: string) {
    super('MPI_ERR_BUFFER', message);
  }
}

export class InvalidType extends MpiError {
  constructor(message: string) {
    super('MPI_ERR_TYPE', message);
  }
}

export class InvalidArgument extends MpiError {
  constructor(name: string, message: string) {
    super('MPI_ERR_ARG', `invalid argument '${name}': ${message}`);
  }
}

/** The matched message is longer than the receive buffer. Raised at the receiver only; the sender succeeds. */
/** A group argument that does not fit the call: a rank outside the group, a rank named twice, a group not inside the communicator. */
export class InvalidGroup extends MpiError {
  constructor(message: string) {
    super('MPI_ERR_GROUP', message);
  }
}

/** A communicator that cannot take the call: freed, or of the wrong kind (an intercommunicator where an intracommunicator is needed). */
export class InvalidComm extends MpiError {
  constructor(message: string) {
    super('MPI_ERR_COMM', message);
  }
}

export class TruncationError extends MpiError {
  readonly source: number;
  readonly tag: number;
  readonly messageBytes: number;
  readonly bufferBytes: number;
  constructor(source: number, tag: number, messageBytes: number, bufferBytes: number) {
    super(
      'MPI_ERR_TRUNCATE',
      `message from rank ${source} (tag ${tag}) has ${messageBytes} bytes but the receive buffer holds ${bufferBytes}: ` +
        `post a larger buffer, or probe() first and size the buffer from status.byteCount`,
    );
    this.source = source;
    this.tag = tag;
    this.messageBytes = messageBytes;
    this.bufferBytes = bufferBytes;
  }
}

/**
 * An object receive (recvObject, irecvObject, Message.recvObject) matched bytes that do not decode
 * as msgpack: a buffer message (send()), or bytes corrupted on the way. Raised at the receiver
 * only, on that receive; the sender's send completes.
 */
export class InvalidObjectMessage extends MpiError {
  readonly source: number;
  readonly tag: number;
  readonly messageBytes: number;
  constructor(source: number, tag: number, messageBytes: number, cause: unknown) {
    super(
      'MPI_ERR_TYPE',
      `the ${messageBytes}-byte message from rank ${source} (tag ${tag}) is not an object message (its bytes do not decode ` +
        `as msgpack: ${cause instanceof Error ? cause.message : String(cause)}): receive what send() sent with recv() into a buffer, ` +
        `and use recvObject() only for what sendObject() sent`,
    );
    this.source = source;
    this.tag = tag;
    this.messageBytes = messageBytes;
    (this as { cause?: unknown }).cause = cause;
  }
}

/** A connection made on first use found no free queue pair on its node's adapter. */
export class QueuePairsExhausted extends MpiError {
  constructor(message: string) {
    super('MPI_ERR_NO_MEM', message);
  }
}

/** A buffer could not be registered: the rank's locked-memory limit is used up. */
export class MemlockExhausted extends MpiError {
  constructor(message: string) {
    super('MPI_ERR_NO_MEM', message);
  }
}

export class RequestError extends MpiError {
  constructor(message: string) {
    super('MPI_ERR_REQUEST', message);
  }
}

/** One failed request of a set: its index in the list the program passed, and its own error. */
export interface RequestFailure {
  index: number;
  error: Error;
}

/**
 * MPI_ERR_IN_STATUS: a call on several requests (waitAll, testAll, waitSome, testSome) saw some of
 * them fail. Every request it returned is complete; `statuses` are theirs, in the order of
 * `indices`, and a failed one's status carries its error in `status.error`.
 */
export class ErrorInStatus extends MpiError {
  constructor(
    call: string,
    readonly indices: readonly number[],
    readonly statuses: readonly Status[],
    readonly failures: readonly RequestFailure[],
  ) {
    super(
      'MPI_ERR_IN_STATUS',
      `${call}(): ${failures.length} of the ${statuses.length} requests it completed failed — ` +
        failures.map((f) => `request ${f.index}: ${f.error.message}`).join('; ') +
        '; the others completed: read each status (status.error is set on the failed ones)',
    );
  }
}

/** Called outside a rank: init() needs the environment `tsmpi run` or runJob() sets up. */
export class NotInRank extends MpiError {
  constructor() {
    super(
      'TSMPI_NOT_IN_RANK',
      'init() was called outside a tsmpi rank: start the program with `tsmpi run -n N prog.ts` ' +
        'or runJob({ np, program }) from @tsmpi/mpi',
    );
  }
}

/** Thrown inside a rank whose job is being torn down (another rank failed, a deadlock, or abort()). */
export class JobAborted extends MpiError {
  constructor(reason: string) {
    super('TSMPI_ABORTED', `the job was aborted: ${reason}`);
  }
}

/** A DMA or send completed with an error status from the adapter. */
export class TransferError extends MpiError {
  readonly status: string;
  constructor(status: string, message: string) {
    super('TSMPI_TRANSFER', `${message} (adapter status ${status})`);
    this.status = status;
  }
}

/** The launcher's report of a global deadlock. */
export class DeadlockError extends MpiError {
  constructor(message: string) {
    super('TSMPI_DEADLOCK', message);
  }
}

/** The launcher's report of a rank that threw or exited non-zero. */
export class RankFailed extends MpiError {
  readonly rank: number;
  constructor(rank: number, message: string, stack?: string) {
    super('TSMPI_RANK_FAILED', message);
    this.rank = rank;
    if (stack) this.stack = stack;
  }
}

/** The exit status of a command stopped by bad usage: EX_USAGE of BSD's sysexits.h. */
export const USAGE_EXIT_CODE = 64;

/** Bad command line or job options. */
export class UsageError extends MpiError {
  constructor(message: string) {
    super('TSMPI_USAGE', message);
  }
}

/** The process manager (Hydra, Slurm, tsmpi --procs) broke the PMI protocol or refused a command. */
export class PmiError extends MpiError {
  constructor(message: string) {
    super('TSMPI_PMI', message);
  }
}

/** The node processes of a job cannot form one job (they disagree, or a peer is not one of them). */
export class WireUpError extends MpiError {
  constructor(message: string) {
    super('TSMPI_WIREUP', message);
  }
}

/**
 * The queue pair to a peer failed (verbs' error state): its operations completed RETRY_EXCEEDED or
 * with a flush error. tsmpi does not reconnect — as Open MPI's ob1 and UCX's default error mode, the
 * rank fails with this error and the job stops; `reason` says why the queue pair failed.
 */
export class ConnectionFailed extends MpiError {
  readonly peer: number;
  readonly status: string;
  readonly reason: string;
  constructor(rank: number, peer: number, status: string, reason: string) {
    super('TSMPI_CONNECTION', `the connection of rank ${rank} to rank ${peer} failed (${status}): ${reason}; ` +
      'the job stops (tsmpi does not reconnect a failed queue pair)');
    this.peer = peer;
    this.status = status;
    this.reason = reason;
  }
}
