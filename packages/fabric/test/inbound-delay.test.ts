/**
 * TSMPI_NET_DELAY_MS (debugging exact timing across processes): frames are held a random wall time
 * but each connection's frames are served in their order; a value that is not a delay is refused.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgument } from '@tsmpi/fabric';
import type { Connection } from '../src/net/connection.js';
import type { FrameReader } from '../src/net/frames.js';
import { inboundDelay } from '../src/net/inbound-delay.js';

const conn = (name: string) => ({ name }) as unknown as Connection;
const frame = (n: number) => ({ n }) as unknown as FrameReader;

describe('inbound frame delay', () => {
  it('serves every frame of a connection, in its order, after a delay', async () => {
    const served: string[] = [];
    const serve = inboundDelay({ TSMPI_NET_DELAY_MS: '3' }, (c, f) =>
      served.push(`${(c as unknown as { name: string }).name}${(f as unknown as { n: number }).n}`));
    const a = conn('a'), b = conn('b');
    for (let i = 0; i < 20; i++) {
      serve(a, frame(i), []);
      serve(b, frame(i), []);
    }
    expect(served).toEqual([]);
    await new Promise((r) => setTimeout(r, 200));
    expect(served).toHaveLength(40);
    for (const name of ['a', 'b']) {
      expect(served.filter((s) => s.startsWith(name))).toEqual(Array.from({ length: 20 }, (_, i) => `${name}${i}`));
    }
  });

  it('serves at once without the variable or with 0', () => {
    for (const env of [{}, { TSMPI_NET_DELAY_MS: '0' }]) {
      const served: number[] = [];
      inboundDelay(env, (_c, f) => served.push((f as unknown as { n: number }).n))(conn('a'), frame(7), []);
      expect(served).toEqual([7]);
    }
  });

  it('refuses a value that is not a delay, naming the variable', () => {
    for (const v of ['abc', '-1', 'Infinity']) {
      expect(() => inboundDelay({ TSMPI_NET_DELAY_MS: v }, () => {})).toThrow(InvalidArgument);
      expect(() => inboundDelay({ TSMPI_NET_DELAY_MS: v }, () => {})).toThrow(/TSMPI_NET_DELAY_MS must be a number/);
    }
  });
});
