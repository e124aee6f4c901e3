import { describe, expect, it } from 'vitest';
import { ENVELOPE_BYTES, EnvelopeOffset, Kind, decodeEnvelope, encodeEnvelope } from '../src/p2p/envelope.js';

describe('envelope', () => {
  it('round-trips every field, including a 2^31+ address', () => {
    const b = new Uint8Array(ENVELOPE_BYTES);
    const e = { kind: Kind.RTS, flags: 1, from: 63, context: 5, source: 7, tag: 0x3fffffff, length: 1 << 24, seq: 0xfffffffe, sendId: 123, rkey: 0xdeadbeef, addr: 2 ** 31 + 4096 } as const;
    encodeEnvelope(e, b);
    expect(decodeEnvelope(b)).toEqual(e);
  });

  it('puts each field at its named offset, little-endian', () => {
    const b = new Uint8Array(ENVELOPE_BYTES);
    encodeEnvelope({ kind: Kind.FIN, flags: 4, from: 513, context: -3, source: 9, tag: 77, length: 40, seq: 0x01020304, sendId: 5, rkey: 6, addr: 1.5 }, b);
    const v = new DataView(b.buffer);
    expect(v.getUint8(EnvelopeOffset.KIND)).toBe(Kind.FIN);
    expect(v.getUint8(EnvelopeOffset.FLAGS)).toBe(4);
    expect(v.getUint16(EnvelopeOffset.FROM, true)).toBe(513);
    expect(v.getInt32(EnvelopeOffset.CONTEXT, true)).toBe(-3);
    expect(v.getInt32(EnvelopeOffset.SOURCE, true)).toBe(9);
    expect(v.getInt32(EnvelopeOffset.TAG, true)).toBe(77);
    expect(v.getUint32(EnvelopeOffset.LENGTH, true)).toBe(40);
    expect([...b.subarray(EnvelopeOffset.SEQ, EnvelopeOffset.SEQ + 4)]).toEqual([4, 3, 2, 1]);
    expect(v.getUint32(EnvelopeOffset.SEND_ID, true)).toBe(5);
    expect(v.getUint32(EnvelopeOffset.RKEY, true)).toBe(6);
    expect(v.getFloat64(EnvelopeOffset.ADDR, true)).toBe(1.5);
    expect(EnvelopeOffset.ADDR + 8).toBe(ENVELOPE_BYTES);
  });
});
