// Producer of net-outbox.test.ts: writes `count` records into the outbox, record i for node i,
// its frame the body length then `outboxRecord(i)`; odd records are streamed (put), even ones
// reserved and filled in place (reserve/commit) when they fit.
import { workerData } from 'node:worker_threads';
import { Outbox } from '../../src/net/outbox.js';
import { outboxRecord } from '../net-outbox-records.js';

const { buffer, count } = workerData as { buffer: SharedArrayBuffer; count: number };
const outbox = new Outbox(buffer);
for (let i = 0; i < count; i++) {
  const body = outboxRecord(i);
  const at = i % 2 === 0 ? outbox.reserve(8 + body.length) : undefined;
  if (at === undefined) {
    const frame = new Uint8Array(4);
    new DataView(frame.buffer).setUint32(0, body.length, true);
    outbox.put(i, frame, body);
  } else {
    const v = new DataView(outbox.bytes.buffer, outbox.bytes.byteOffset + at, 8);
    v.setUint32(0, i, true);
    v.setUint32(4, body.length, true);
    outbox.bytes.set(body, at + 8);
    outbox.commit(8 + body.length);
  }
}
