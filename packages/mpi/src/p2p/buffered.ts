import { InvalidBuffer } from '../errors.js';
import { Request, waitAllOwnError } from '../request.js';
import type { TypedBuffer } from '../typed-buffer.js';

/**
 * Bytes of the attached buffer each buffered message uses beyond its data (MPI_BSEND_OVERHEAD):
 * the bookkeeping MPICH keeps in front of each message. Size an attached buffer as the sum of
 * (message bytes + BSEND_OVERHEAD) over the messages that may be in flight at once.
 */
export const BSEND_OVERHEAD = 96;

/** Messages start on 8-byte boundaries inside the attached buffer, as MPICH aligns them. */
const ALIGN = 8;

interface Segment {
  start: number;
  end: number;
  req: Request;
}

/**
 * The attached buffer of buffered sends (MPI_Buffer_attach, MPI_Bsend): one per rank. A bsend
 * copies the message into a segment of the buffer and sends it from there; the call returns
 * at once, and the segment is free again when that send completes. Segments are carved first-fit
 * in address order. There is no second copy anywhere: the attached buffer is ordinary memory of
 * the rank, registered by the cache like any send buffer when the message is long.
 */
export class AttachedBuffer {
  private readonly segments: Segment[] = [];

  constructor(readonly buffer: TypedBuffer) {}

  /**
   * Room for `length` data bytes plus the overhead: completed sends give their segments back
   * first; `poll` runs one progress poll when that is not enough. Throws when the buffer cannot
   * hold the message even then.
   */
  reserve(length: number, poll: (r: Request) => void): number {
    const need = BSEND_OVERHEAD + align(length);
    let at = this.fit(need);
    if (at === undefined && this.segments.length > 0) {
      poll(this.segments[0]!.req);
      at = this.fit(need);
    }
    if (at === undefined) {
      const used = this.segments.reduce((n, s) => n + s.end - s.start, 0);
      throw new InvalidBuffer(
        `bsend: a ${length}-byte message needs ${need} bytes of the attached buffer (BSEND_OVERHEAD ${BSEND_OVERHEAD} included) ` +
          `but its ${this.buffer.byteLength} bytes hold ${this.segments.length} message(s) still in flight (${used} bytes): ` +
          'attach a larger buffer (the sum of message bytes + BSEND_OVERHEAD over the messages in flight), or wait for earlier ones',
      );
    }
    return at + BSEND_OVERHEAD;
  }

  /** The send from the segment reserved at `dataAddr`; the segment is busy until it completes. */
  track(dataAddr: number, length: number, req: Request): void {
    const start = dataAddr - BSEND_OVERHEAD;
    this.segments.push({ start, end: start + BSEND_OVERHEAD + align(length), req });
    this.segments.sort((a, b) => a.start - b.start);
  }

  /** Waits until every buffered message has left (MPI_Buffer_detach blocks for them). */
  drain(): void {
    waitAllOwnError(this.segments.map((s) => s.req));
    this.segments.length = 0;
  }

  /**
   * First-fit in address order over what completed sends left free. A buffered send that failed
   * is reported here, by the next bsend (or by bufferDetach), since its own call returned long ago.
   */
  private fit(need: number): number | undefined {
    let failed: Error | undefined;
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const { req } = this.segments[i]!;
      if (!req.completed) continue;
      failed = req.errorValue ?? failed;
      this.segments.splice(i, 1);
    }
    if (failed) throw failed;
    let at = this.buffer.addr;
    for (const s of this.segments) {
      if (s.start - at >= need) return at;
      at = s.end;
    }
    return this.buffer.addr + this.buffer.byteLength - at >= need ? at : undefined;
  }
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}
