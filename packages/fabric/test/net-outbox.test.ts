/*
 * The outbox between a producer thread and this one (the network thread's side): records of every
 * size — streamed, reserved in place, larger than the ring itself, ending exactly at the ring's end
 * or wrapping — come out whole, in order, byte for byte, while the ring (64 KiB) fills and drains.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Outbox, createOutbox } from '../src/net/outbox.js';
import { outboxRecord } from './net-outbox-records.js';

describe('outbox', () => {
  it('hands every record over whole and in order while a producer thread fills the ring', async () => {
    const buffer = createOutbox(64 * 1024);
    const outbox = new Outbox(buffer);
    expect(outbox.capacity).toBe(64 * 1024);
    const count = 300;
    const worker = new Worker(fileURLToPath(new URL('./workers/bootstrap.mjs', import.meta.url)), {
      workerData: { entry: new URL('./workers/outbox-producer.ts', import.meta.url).href, buffer, count },
    });
    const failed = new Promise<never>((_, reject) => worker.on('error', reject));
    const got: Array<{ dst: number; frame: Buffer }> = [];
    const unreleased: Array<() => void> = [];
    try {
      const until = Date.now() + 30_000;
      while (got.length < count) {
        if (Date.now() > until) throw new Error(`only ${got.length} of ${count} records came out within 30 s`);
        // Copy each record out, and release them a few at a time, late and out of order, as sockets would.
        outbox.drain((dst, frame, release) => {
          got.push({ dst, frame: Buffer.concat(frame) });
          unreleased.push(release);
        });
        if (unreleased.length >= 3) for (const r of unreleased.splice(0).reverse()) r();
        await Promise.race([new Promise((r) => setImmediate(r)), failed]);
        for (const r of unreleased.splice(0, 1)) r();
      }
    } finally {
      await worker.terminate();
    }
    expect(got.map((r) => r.dst)).toEqual([...Array(count).keys()]);
    const wrong = got.filter((r, i) => {
      const body = outboxRecord(i);
      return r.frame.readUInt32LE(0) !== body.length || !r.frame.subarray(4).equals(Buffer.from(body));
    });
    expect(wrong.map((r) => r.dst)).toEqual([]);
    expect(outbox.available).toBe(0);
  });
});
