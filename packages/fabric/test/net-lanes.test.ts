/*
 * Socket lanes (src/net/lanes.ts): rank threads write small frames straight onto a connection's
 * socket while the network thread writes large ones through Node's queue. Two writer threads and
 * the network thread's Connection share one socket whose reader stalls at first (so the socket
 * fills, writes come out partial and Node queues): every frame arrives whole, each writer's in
 * order, and once Node's queue is empty the lane is idle again; after close nothing is written.
 */
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Connection } from '../src/net/connection.js';
import { FrameType } from '../src/net/frames.js';
import { IDLE, SocketLanes, createLanes } from '../src/net/lanes.js';
import { SMALL_SIZES, laneFrame } from './net-lane-frames.js';

const WRITERS = 2;
const SMALL = 1500;
const LARGE = 96; // 24 MiB: more than the socket of a stalled reader takes
const LARGE_BYTES = 256 * 1024;
const NETWORK_THREAD = 9;

describe('socket lanes', () => {
  it('frames from two writer threads and the network thread arrive whole and in each writer\'s order; the lane goes idle again', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const accepted = once(server, 'connection');
    const client = connect({ host: '127.0.0.1', port: (server.address() as { port: number }).port });
    await once(client, 'connect');
    const [reader] = (await accepted) as [Socket];
    reader.write(Buffer.from([2, 0, 0, 0, FrameType.HELLO, 0xc0])); // the Connection wants a HELLO first

    const lanes = createLanes();
    const lane = new SocketLanes(lanes);
    const conn = new Connection(client, true, 'reader', { hello: () => true, frame: () => {}, closed: () => {} }, lane);
    conn.peer = 1;
    conn.open();

    const expected = new Map<number, number>([[NETWORK_THREAD, LARGE], ...[...Array(WRITERS).keys()].map((w) => [w, SMALL] as [number, number])]);
    const next = new Map<number, number>();
    const wrong: string[] = [];
    let chunks = Buffer.alloc(0);
    let frames = 0;
    const all = WRITERS * SMALL + LARGE;
    const done = new Promise<void>((resolve) => reader.on('data', (d: Buffer) => {
      // read slowly: the socket keeps filling and draining while Node still queues a large frame
      reader.pause();
      setTimeout(() => reader.resume(), 1);
      chunks = Buffer.concat([chunks, d]);
      while (chunks.length >= 4 && chunks.length >= 4 + chunks.readUInt32LE(0)) {
        const body = chunks.readUInt32LE(0);
        if (body > 5 + LARGE_BYTES) { // bytes of two frames interleaved: nothing after can be parsed
          wrong.push(`frame ${frames}: impossible body length ${body}`);
          return resolve();
        }
        const writer = chunks[4]!;
        const index = chunks.readUInt32LE(5);
        const want = next.get(writer) ?? 0;
        const size = writer === NETWORK_THREAD ? LARGE_BYTES : SMALL_SIZES[index % SMALL_SIZES.length]!;
        if (!expected.has(writer) || index !== want || body !== 5 + size ||
          !chunks.subarray(0, 4 + body).equals(Buffer.from(laneFrame(writer, index, size)))) {
          wrong.push(`frame ${frames}: writer ${writer} index ${index} (wanted ${want}) body ${body}`);
        }
        next.set(writer, index + 1);
        chunks = chunks.subarray(4 + body);
        if (++frames === all) resolve();
      }
    }));
    reader.pause(); // stalled until the large frames are sent: the socket fills up

    const start = new SharedArrayBuffer(8);
    const go = new Int32Array(start);
    const workers = [...Array(WRITERS).keys()].map((writer) => new Worker(fileURLToPath(new URL('./workers/bootstrap.mjs', import.meta.url)), {
      workerData: { entry: new URL('./workers/lane-writer.ts', import.meta.url).href, lanes, writer, count: SMALL, start },
    }));
    const reports = workers.map((w) => new Promise<{ refused: number }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    }));
    let queued = 0;
    try {
      while (Atomics.load(go, 1) < WRITERS) await new Promise((r) => setTimeout(r, 5));
      // the network thread's large frames first: the socket fills and the rest waits in Node's queue
      for (let i = 0; i < LARGE; i++) {
        conn.send(laneFrame(NETWORK_THREAD, i, LARGE_BYTES));
        await new Promise((r) => setImmediate(r));
        queued = Math.max(queued, client.writableLength);
        if (i === LARGE / 2) { // then the writers, while it is queued
          Atomics.store(go, 0, 1);
          Atomics.notify(go, 0);
        }
      }
      setTimeout(() => reader.resume(), 50);
      await Promise.race([done, new Promise((r) => setTimeout(r, 30_000).unref())]);
      expect(frames, 'frames that arrived (a stream broken by interleaved bytes stops early)').toBe(all);
      const refused = (await Promise.all(reports)).reduce((n, r) => n + r.refused, 0);
      expect(wrong).toEqual([]);
      // the writers met a busy lane (Node's queue first) and waited: the contended path ran
      expect(refused).toBeGreaterThan(0);
      expect(queued).toBeGreaterThan(0); // and the network thread's frames waited in Node's queue
      while (client.writableLength > 0) await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      expect(lane.state(1)).toBe(IDLE);
      expect(lane.tryWrite(1, [laneFrame(0, SMALL, 1)])).toBe('all');
      conn.close();
      expect(lane.tryWrite(1, [laneFrame(0, SMALL + 1, 1)])).toBe('none');
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
      client.destroy();
      reader.destroy();
      server.close();
    }
  });
});
