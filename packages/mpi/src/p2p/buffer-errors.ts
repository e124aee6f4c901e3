import { InvalidBuffer, MemlockExhausted, MpiError } from '../errors.js';
import { InjectedFault } from '../inject.js';
import type { Status } from '../status.js';
import type { RecvOp } from './operations.js';
import type { SpacePort } from './ports.js';

/**
 * Errors from below on a user buffer, made typed and actionable: no lockable memory (ENOMEM from the
 * adapter or the cache) becomes MPI_ERR_NO_MEM naming --memlock; a segfault or bad address becomes
 * MPI_ERR_BUFFER.
 */
export function asBufferError(e: unknown, what: string): Error {
  if (e instanceof MpiError) return e;
  const code = e instanceof Error ? (e as { code?: unknown }).code : undefined;
  const injected = injectedCause(e);
  if (injected) return injectedError(injected, what);
  if (code === 'ENOMEM') {
    const instead = what.includes('object message') ? 'send the object in smaller parts' : 'keep fewer large buffers in flight';
    const err = new MemlockExhausted(
      `registering the ${what} failed: ${(e as Error).message}. Raise the per-rank limit ` +
        `(tsmpi run --memlock 64M, or unlimited; runJob({ memlock })) or ${instead}`,
    );
    (err as { cause?: unknown }).cause = e;
    return err;
  }
  if (typeof code === 'string') {
    const err = new InvalidBuffer(
      `the ${what} is not valid memory of this rank (${(e as Error).message}): allocate buffers with comm.alloc() or ` +
        `comm.heap.malloc() and do not use them after free()`,
    );
    (err as { cause?: unknown }).cause = e;
    return err;
  }
  return e instanceof Error ? e : new Error(String(e));
}

/** A receive buffer the adapter found bad (no exception from below to translate): MPI_ERR_BUFFER, as asBufferError says it. */
export function receiveBufferFault(detail: string): InvalidBuffer {
  return new InvalidBuffer(
    `the receive buffer is not valid memory of this rank (${detail}): allocate buffers with comm.alloc() or ` +
      `comm.heap.malloc() and do not use them after free()`,
  );
}

/**
 * A receive's landing, checked before an RDMA read into it: under odp nothing else looks at it first,
 * and the read's local error would be fatal for the queue pair (verbs), ending the job instead of
 * failing the receive. Read from the mappings alone — a fault or copy-on-write break here would
 * change what the registration then does (and the study's virtual results). Undefined when it is good.
 */
export function landingFault(space: SpacePort, addr: number, length: number): InvalidBuffer | undefined {
  const maps = space.mappings?.();
  if (maps === undefined || length === 0) return undefined;
  let at = addr;
  for (const m of [...maps].sort((x, y) => x.start - y.start)) {
    if (m.end <= at || m.start > at) continue;
    if ((m.prot & PROT_WRITE) === 0) break;
    at = m.end;
    if (at >= addr + length) return undefined;
  }
  return receiveBufferFault(`no writable mapping covers [0x${at.toString(16)}, 0x${(addr + length).toString(16)})`);
}

const PROT_WRITE = 2; // @tsmpi/vm Prot.WRITE

/** An --inject fault anywhere in the cause chain (the cache wraps the adapter's error in its own). */
function injectedCause(e: unknown): InjectedFault | undefined {
  for (let c = e, depth = 0; c && depth < 6; c = (c as { cause?: unknown }).cause, depth++) {
    if (c instanceof InjectedFault) return c;
  }
  return undefined;
}

/** The typed error an injected registration fault becomes: the same class as the real fault, named as injected. */
function injectedError(f: InjectedFault, what: string): MpiError {
  const err = f.code === 'ENOMEM'
    ? new MemlockExhausted(`registering the ${what} failed: ${f.message}`)
    : new InvalidBuffer(`registering the ${what} failed: ${f.message}`);
  (err as { cause?: unknown }).cause = f;
  return err;
}

/** What a send moves, for its errors: the user's send buffer, or the bytes sendObject packed (held in a temporary). */
export function sendBufferName(op: { temp?: number; length: number }): string {
  return op.temp === undefined ? 'send buffer' : `${op.length}-byte object message (sendObject's packed value)`;
}

/** Runs `f` on a user buffer; what it throws comes out as asBufferError's typed error. */
export function guardBuffer<T>(f: () => T, what: string): T {
  try {
    return f();
  } catch (e) {
    throw asBufferError(e, what);
  }
}

/** Runs `f` on a receive's buffer; a bad buffer fails the receive at `time` instead of throwing. */
export function guardRecv(recv: RecvOp, status: Status, time: number, f: () => void): void {
  try {
    f();
  } catch (e) {
    recv.req.fail(asBufferError(e, 'receive buffer'), time, status);
  }
}
