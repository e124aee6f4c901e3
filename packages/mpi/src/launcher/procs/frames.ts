import { Packr } from 'msgpackr';
import { WireUpError } from '../../errors.js';

/**
 * Control frames between the node processes of one job (never payloads: those go through the fabric's
 * network wire):
 *
 *   [u32 big-endian body length][msgpack body]
 *
 * A length over MAX_FRAME, a body that does not decode, or a message of an unknown type closes the
 * connection with an error naming the peer.
 */
export const MAX_FRAME = 64 * 1024 * 1024;
const HEADER = 4;

const packr = new Packr({ useRecords: false, moreTypes: false });

export function encodeFrame(message: unknown): Buffer {
  const body = packr.pack(message);
  if (body.length > MAX_FRAME) throw new WireUpError(`a control message of ${body.length} bytes exceeds the ${MAX_FRAME}-byte frame limit`);
  const out = Buffer.allocUnsafe(HEADER + body.length);
  out.writeUInt32BE(body.length, 0);
  body.copy(out, HEADER);
  return out;
}

/** Reassembles frames from a byte stream; `peer()` names the other end in errors. */
export class FrameReader {
  private chunks: Buffer[] = [];
  private bytes = 0;

  constructor(private readonly peer: () => string) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }

  /** The next whole message, or undefined until more bytes arrive; throws WireUpError for a bad frame. */
  next(): unknown {
    if (this.bytes < HEADER) return undefined;
    const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = [buf];
    const len = buf.readUInt32BE(0);
    if (len > MAX_FRAME) throw new WireUpError(`${this.peer()} sent a frame of ${len} bytes (limit ${MAX_FRAME}): not a tsmpi node of this job, connection closed`);
    if (buf.length < HEADER + len) return undefined;
    const body = buf.subarray(HEADER, HEADER + len);
    const rest = buf.subarray(HEADER + len);
    this.chunks = rest.length ? [rest] : [];
    this.bytes = rest.length;
    try {
      return packr.unpack(body);
    } catch (e) {
      throw new WireUpError(`${this.peer()} sent a frame that does not decode (${(e as Error).message}): connection closed`);
    }
  }
}
