// Writer thread of net-lanes.test.ts: writes `count` small frames onto node 1's socket through its
// lane, as a rank thread does, retrying a frame the lane refuses (busy, or Node's queue first).
import { parentPort, workerData } from 'node:worker_threads';
import { SocketLanes } from '../../src/net/lanes.js';
import { SMALL_SIZES, laneFrame } from '../net-lane-frames.js';

const { lanes, writer, count, start } = workerData as { lanes: SharedArrayBuffer; writer: number; count: number; start: SharedArrayBuffer };
const lane = new SocketLanes(lanes);
// start together with the network thread's large frames
const go = new Int32Array(start);
Atomics.add(go, 1, 1);
Atomics.wait(go, 0, 0);
const pause = new Int32Array(new SharedArrayBuffer(4));
let refused = 0;
for (let i = 0; i < count; i++) {
  const frame = laneFrame(writer, i, SMALL_SIZES[i % SMALL_SIZES.length]!);
  while (lane.tryWrite(1, [frame]) !== 'all') {
    refused++;
    Atomics.wait(pause, 0, 0, 0.2);
  }
}
parentPort!.postMessage({ refused });
