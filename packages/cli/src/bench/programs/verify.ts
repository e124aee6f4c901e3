/**
 * Message contents and their verification.
 *
 * Before every send the sender writes a pattern unique to (sender, size, iteration) into its
 * buffer; the receiver checks every byte it received against that pattern, which is exactly what
 * the sender's memory held at send time. Both ranks derive the pattern from the same table, so
 * nothing but the message itself crosses between them.
 *
 * The table is PERIOD + maxSize pseudo-random bytes (xorshift32, fixed seed); a pattern is the
 * window starting at an offset chosen from (sender, size, iteration). PERIOD is prime and the
 * iteration step is not a multiple of it, so PERIOD consecutive iterations of one size never share
 * an offset: a delivery of an earlier iteration's bytes (a stale registration's old frames) is a
 * mismatch except with probability 256^-size (1-byte messages travel eager anyway, through a CPU
 * copy that cannot be stale).
 */
const PERIOD = 4093;
const STEP_ITERATION = 2471; // 2654435761 mod PERIOD: Knuth's multiplicative-hash constant
const STEP_SIZE = 3666; // 40503 mod PERIOD
const STEP_SENDER = 977;

export class PatternTable {
  private readonly table: Uint8Array;
  readonly maxSize: number;

  constructor(maxSize: number, seed = 0x9e3779b9) {
    this.maxSize = maxSize;
    this.table = new Uint8Array(PERIOD + maxSize);
    let x = seed >>> 0 || 1;
    const t = this.table;
    // Four bytes per xorshift step: generating 16 MiB stays in the tens of milliseconds.
    let i = 0;
    for (; i + 4 <= t.length; i += 4) {
      x ^= x << 13; x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5; x >>>= 0;
      t[i] = x & 0xff; t[i + 1] = (x >>> 8) & 0xff; t[i + 2] = (x >>> 16) & 0xff; t[i + 3] = x >>> 24;
    }
    for (; i < t.length; i++) t[i] = (i * 131) & 0xff;
  }

  /** The bytes `sender` puts in a `size`-byte message at `iteration` (a view: do not modify). */
  pattern(sender: number, size: number, iteration: number): Uint8Array {
    if (size > this.maxSize) throw new RangeError(`pattern of ${size} bytes asked of a table built for ${this.maxSize}`);
    const off = (iteration * STEP_ITERATION + (31 - Math.clz32(size)) * STEP_SIZE + size + sender * STEP_SENDER) % PERIOD;
    return this.table.subarray(off, off + size);
  }
}

export interface Check {
  /** true when at least one byte differed. */
  stale: boolean;
  /** Number of bytes that differed. */
  wrongBytes: number;
}

const SAME: Check = { stale: false, wrongBytes: 0 };

/** Compare what arrived with what was sent: memcmp first, a byte count only on a mismatch. */
export function check(received: Uint8Array, expected: Uint8Array): Check {
  if (received.length !== expected.length) {
    return { stale: true, wrongBytes: Math.max(received.length, expected.length) };
  }
  const a = Buffer.from(received.buffer, received.byteOffset, received.byteLength);
  const b = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  if (a.equals(b)) return SAME;
  let wrong = 0;
  for (let i = 0; i < received.length; i++) if (received[i] !== expected[i]) wrong++;
  return { stale: true, wrongBytes: wrong };
}

/** Expected result of an element-wise MAX over several senders' Uint8 patterns. */
export function maxOf(patterns: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(patterns[0]!.length);
  out.set(patterns[0]!);
  for (let p = 1; p < patterns.length; p++) {
    const src = patterns[p]!;
    for (let i = 0; i < out.length; i++) if (src[i]! > out[i]!) out[i] = src[i]!;
  }
  return out;
}
