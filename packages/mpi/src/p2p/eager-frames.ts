import { ENVELOPE_BYTES } from './envelope.js';

/** A frame of the pool: room for an envelope and the largest eager payload, and the view of it a send fills. */
export interface EagerFrame {
  readonly room: Uint8Array;
  /** ENVELOPE_BYTES + the payload length of the send that took the frame. */
  bytes: Uint8Array;
  /** Its payload part (after the envelope). */
  payload: Uint8Array;
}

/**
 * The eager sends' frames (envelope + payload, assembled before they go into a bounce slot), reused
 * rather than allocated per message. One frame cannot serve every send: an eager send fills its frame
 * before it takes a slot, and when none is free the wait for one runs progress, which can start another
 * eager send (a nonblocking collective's next round). So a frame leaves the pool when a send takes it
 * and comes back once its bytes are in the slot; the pool grows to the deepest such nesting and stays.
 *
 *   take ─► [ envelope | payload ] ─► (wait for a slot: other sends take other frames) ─► post copies ─► give
 */
const EMPTY = new Uint8Array(0);

export class EagerFrames {
  private readonly free: EagerFrame[] = [];
  private owned = 0;

  constructor(private readonly maxPayload: number) {}

  /** A frame whose `bytes` hold ENVELOPE_BYTES + `length`, out of the pool until give(). */
  take(length: number): EagerFrame {
    let f = this.free.pop();
    if (f !== undefined && f.room.length < ENVELOPE_BYTES + length) {
      this.free.push(f); // (not on the eager path: selection keeps a payload below the threshold)
      f = undefined;
    }
    if (f === undefined) {
      f = { room: new Uint8Array(ENVELOPE_BYTES + Math.max(length, this.maxPayload)), bytes: EMPTY, payload: EMPTY };
      this.owned++;
    }
    if (f.bytes.length !== ENVELOPE_BYTES + length) {
      f.bytes = f.room.subarray(0, ENVELOPE_BYTES + length);
      f.payload = f.room.subarray(ENVELOPE_BYTES, ENVELOPE_BYTES + length);
    }
    return f;
  }

  /** Back to the pool: its bytes are in a bounce slot now, or its send failed before it got one. */
  give(f: EagerFrame): void {
    this.free.push(f);
  }

  /** Frames the pool made so far: the deepest nesting of eager sends. */
  get size(): number {
    return this.owned;
  }

  /** Frames out now (taken, not yet given back). */
  get taken(): number {
    return this.owned - this.free.length;
  }
}
