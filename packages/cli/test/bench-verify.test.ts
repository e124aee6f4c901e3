import { describe, expect, it } from 'vitest';
import { PatternTable, check, maxOf } from '../src/bench/programs/verify.js';

describe('message patterns', () => {
  const table = new PatternTable(1 << 20);
  it('differ between consecutive iterations, sizes and senders', () => {
    for (const size of [2, 64, 4096, 1 << 20]) {
      for (let i = 0; i < 50; i++) {
        expect(check(table.pattern(0, size, i + 1), table.pattern(0, size, i)).stale).toBe(true);
        expect(check(table.pattern(1, size, i), table.pattern(0, size, i)).stale).toBe(true);
      }
    }
  });
  it('are the same on both sides: a second table built alike agrees byte for byte', () => {
    const other = new PatternTable(1 << 20);
    expect(check(other.pattern(1, 65536, 7), table.pattern(1, 65536, 7))).toEqual({ stale: false, wrongBytes: 0 });
  });
  it('count the bytes that differ', () => {
    const sent = table.pattern(0, 4096, 3);
    const got = new Uint8Array(sent);
    got[0] = got[0]! ^ 0xff;
    got[4095] = got[4095]! ^ 1;
    expect(check(got, sent)).toEqual({ stale: true, wrongBytes: 2 });
    expect(check(new Uint8Array(4095), sent)).toEqual({ stale: true, wrongBytes: 4096 });
  });
  it('give the element-wise maximum an allreduce(MAX) must produce', () => {
    expect([...maxOf([Uint8Array.of(1, 9, 3), Uint8Array.of(4, 2, 3)])]).toEqual([4, 9, 3]);
  });
});
