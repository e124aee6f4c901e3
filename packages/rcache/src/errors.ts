/**
 * Every error @tsmpi/rcache throws is an RcacheError with a stable `code`; messages say what was wrong and
 * what to do about it.
 */
export type RcacheErrorCode = 'EINVAL' | 'ENOMEM' | 'EREG' | 'ENOTHELD' | 'ECLOSED';

export class RcacheError extends Error {
  readonly code: RcacheErrorCode;
  constructor(code: RcacheErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A constructor option or call argument is out of range; the message names it. */
export class InvalidArgument extends RcacheError {
  constructor(message: string) {
    super('EINVAL', message);
  }
}

/**
 * register() kept failing for lack of lockable memory after every unused region was evicted. The registrations
 * still held are what pins the memory: release them, or raise the locked-memory limit.
 */
export class OutOfLockableMemory extends RcacheError {
  readonly start: number;
  readonly end: number;
  constructor(start: number, end: number, detail: string, cause: unknown) {
    super(
      'ENOMEM',
      `registering [0x${start.toString(16)}, 0x${end.toString(16)}) failed for lack of lockable memory ` +
        `(${detail}); release registrations you no longer need or raise the locked-memory limit`,
      { cause },
    );
    this.start = start;
    this.end = end;
  }
}

/** register() failed for a reason other than lockable memory; the device's error is the cause. */
export class RegistrationFailed extends RcacheError {
  readonly start: number;
  readonly end: number;
  constructor(start: number, end: number, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(
      'EREG',
      `registering [0x${start.toString(16)}, 0x${end.toString(16)}) failed: ${why}; ` +
        `check that the buffer is mapped with the access you asked for`,
      { cause },
    );
    this.start = start;
    this.end = end;
  }
}

/** release() of a registration this cache did not hand out, or one already released to zero. */
export class RegistrationNotHeld extends RcacheError {
  constructor(message: string) {
    super('ENOTHELD', message);
  }
}

/** The cache was closed; make a new one (close() deregistered everything and reported what was still held). */
export class CacheClosed extends RcacheError {
  constructor(what: string) {
    super('ECLOSED', `${what} on a closed registration cache; create a new cache or keep this one open`);
  }
}
