/**
 * Errors raised by `tsmpi bench`. One base class with a stable `code`, so the command can turn
 * any of them into a one-line message and an exit status without matching on text.
 */
export type BenchErrorCode = 'EUSAGE' | 'EJOB' | 'ESCHEMA' | 'ESTALE';

export class BenchError extends Error {
  readonly code: BenchErrorCode;
  constructor(code: BenchErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bad command line: the message names the argument and says what would be accepted. */
export class BenchUsageError extends BenchError {
  constructor(message: string) {
    super('EUSAGE', message);
  }
}

/** A benchmark job (one configuration × pattern) failed inside the runtime. */
export class BenchJobError extends BenchError {
  readonly job: string;
  constructor(job: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super('EJOB', `benchmark job ${job} failed: ${why} (rerun it alone with the same flags to see the rank's report)`);
    this.job = job;
    if (cause instanceof Error) this.cause = cause;
  }
}

/** A record does not follow the JSON schema documented in bench/README.md. */
export class BenchSchemaError extends BenchError {
  constructor(message: string) {
    super('ESCHEMA', message);
  }
}
