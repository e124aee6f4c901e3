/**
 * Typed errors of @tsmpi/vm. Each carries a stable `code` modelled on the errno a Linux
 * syscall would return, and a message that says what was wrong and what to do.
 */
export type VmErrorCode = 'EINVAL' | 'ENOMEM' | 'EFAULT' | 'SEGV' | 'EPERM' | 'ESTALE';

export class VmError extends Error {
  readonly code: VmErrorCode;
  constructor(code: VmErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

const hex = (n: number): string => '0x' + n.toString(16);

/** A touch of an address with no mapping, or with a mapping whose protection forbids the access. */
export class SegmentationFault extends VmError {
  readonly address: number;
  readonly access: 'read' | 'write';
  constructor(address: number, access: 'read' | 'write', why: string) {
    super('SEGV', `segmentation fault: ${access} of ${hex(address)}: ${why}`);
    this.address = address;
    this.access = access;
  }
}

export class InvalidArgument extends VmError {
  constructor(message: string) {
    super('EINVAL', message);
  }
}

export class OutOfMemory extends VmError {
  constructor(message: string) {
    super('ENOMEM', message);
  }
}

/** RLIMIT_MEMLOCK analogue: pin() or mlock() would take the process over its locked-memory limit. */
export class MemlockLimitExceeded extends VmError {
  readonly requested: number;
  readonly locked: number;
  readonly limit: number;
  constructor(requested: number, locked: number, limit: number, what: string) {
    super(
      'ENOMEM',
      `${what} of ${requested} bytes would exceed the locked-memory limit: ` +
        `${locked} bytes already locked, limit ${limit} bytes (RLIMIT_MEMLOCK). ` +
        `Raise it with new AddressSpace(memory, { memlockLimit }) or space.memlockLimit = ... (Infinity for unlimited), ` +
        `or release pinned/locked memory first.`,
    );
    this.requested = requested;
    this.locked = locked;
    this.limit = limit;
  }
}

/** EFAULT: a range handed to a call is not (fully) mapped. */
export class BadAddress extends VmError {
  readonly address: number;
  constructor(address: number, message: string) {
    super('EFAULT', `bad address ${hex(address)}: ${message}`);
    this.address = address;
  }
}

export class PermissionDenied extends VmError {
  constructor(message: string) {
    super('EPERM', message);
  }
}

/** A MappedView was used after a mapping change under its range (unmap, remap, migration, reclaim). */
export class StaleView extends VmError {
  readonly start: number;
  readonly length: number;
  constructor(start: number, length: number, why: string) {
    super(
      'ESTALE',
      `stale view of [${hex(start)}, ${hex(start + length)}): ${why}. ` +
        `Call view.refresh() to translate again (it throws if the range is no longer mapped), or re-create the view.`,
    );
    this.start = start;
    this.length = length;
  }
}

export { hex as formatAddress };
