/*
 * The network wire when a peer fails or is not a peer: a node killed while an operation waits on
 * it, a connection without the job's token, frames that cannot be frames. Each ends one connection
 * with a NetworkError naming the peer (reported by the node, which keeps serving), never a crash
 * and never a hang.
 */
import { connect, type Socket } from 'node:net';
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { Status } from '@tsmpi/fabric';
import { inProcess, startPair, stop } from './net-harness.js';
import { Op } from '../src/net/frames.js';

/** A raw TCP client to a node's address; resolves once connected. */
function dial(address: string): Promise<{ socket: Socket; closed: Promise<void> }> {
  const m = /^(.*):(\d+)$/.exec(address)!;
  const socket = connect({ host: m[1]!, port: Number(m[2]) });
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => {});
  socket.resume(); // drain what the node answers (its HELLO), or the close is never seen
  return new Promise((resolve) => socket.once('connect', () => resolve({ socket, closed })));
}

function frame(type: number, body: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + body.length);
  out.writeUInt32LE(1 + body.length, 0);
  out[4] = type;
  out.set(body, 5);
  return out;
}

const hello = (token: string, node: number): Buffer => frame(1, pack({ token, node, accept: true }));

/** The node's NetworkErrors seen so far, once `n` of them have arrived (bounded). */
async function errorsOf(node: { seen: (t: string) => Array<Record<string, any>> }, n: number): Promise<Array<Record<string, any>>> {
  for (const until = Date.now() + 15_000; node.seen('net-error').length < n && Date.now() < until;) await new Promise((r) => setTimeout(r, 20));
  return node.seen('net-error');
}

describe('network wire failures', () => {
  it('a peer killed while a send waits on it: the send completes RETRY_EXCEEDED and the error names the peer', async () => {
    const { nodes } = await startPair('pinning', 'closed-peer');
    try {
      for (const [i, n] of nodes.entries()) await n.next('exchange', `node ${i}'s QP address`);
      for (const [i, n] of nodes.entries()) await n.next('exchange', `node ${i}'s rank connected`);
      await nodes[0]!.next('exchange', 'node 0\'s rank reporting its send parked');
      await nodes[1]!.next('exchange', 'node 1\'s rank ready');
      nodes[1]!.child.kill('SIGKILL');
      const { result } = await nodes[0]!.next('result', 'the waiting send\'s completion');
      expect(result.c).toMatchObject({ status: Status.RETRY_EXCEEDED, wrId: 99 });
      expect(result.stats).toMatchObject({ rnrParked: 1, sendOps: 0 });
      const errors = await errorsOf(nodes[0]!, 1);
      expect(errors[0]).toMatchObject({ reason: 'closed' });
      expect(errors[0]!.peer).toMatch(/^node 1 \(127\.0\.0\.1:\d+\)$/);
    } finally {
      stop(nodes);
    }
  });

  it('a send the far node cannot park (its arena is full) completes REMOTE_OPERATION_ERROR, and the error says why', async () => {
    const { nodes } = await startPair('pinning', 'arena-full', [undefined, { arenaBytes: 1024 * 1024 }]);
    try {
      const { result } = await nodes[0]!.next('result', 'the refused send\'s completion');
      expect(result.c).toMatchObject({ status: Status.REMOTE_OPERATION_ERROR, wrId: 77, byteLength: 0 });
      expect(result.stats).toMatchObject({ sendOps: 0, sendBytes: 0 });
      const errors = await errorsOf(nodes[1]!, 1);
      expect(errors[0]).toMatchObject({ reason: 'frame' });
      expect(errors[0]!.message).toMatch(/arena/);
    } finally {
      stop(nodes);
    }
  });

  it('refuses connections without the token and frames that cannot be frames, and keeps serving its peers', async () => {
    const { nodes, token, addresses } = await startPair('odp', 'rdma');
    try {
      const wrongToken = await dial(addresses[0]!);
      wrongToken.socket.write(hello('not-the-token', 7));
      await wrongToken.closed;
      const noHello = await dial(addresses[0]!);
      noHello.socket.write(frame(2, new Uint8Array(Op.HEADER))); // a whole SEND header, but before the token
      await noHello.closed;
      const unknownType = await dial(addresses[0]!);
      unknownType.socket.write(hello(token, 7));
      unknownType.socket.write(frame(99, new Uint8Array(16)));
      await unknownType.closed;
      const tooLong = await dial(addresses[0]!);
      tooLong.socket.write(hello(token, 8));
      const huge = Buffer.alloc(8);
      huge.writeUInt32LE(0xfffffff0, 0);
      tooLong.socket.write(huge);
      await tooLong.closed;
      const lying = await dial(addresses[0]!);
      lying.socket.write(hello(token, 9));
      lying.socket.write(frame(5, new Uint8Array(3))); // a COMPLETE shorter than its header
      await lying.closed;

      const errors = await errorsOf(nodes[0]!, 5);
      expect(errors.map((e) => e.reason)).toEqual(['token', 'token', 'frame', 'frame', 'frame']);
      expect(errors.map((e) => e.message)).toEqual([
        expect.stringMatching(/presented a wrong token/),
        expect.stringMatching(/did not present the job's token first/),
        expect.stringMatching(/unknown type 99/),
        expect.stringMatching(/impossible length 4294967280/),
        expect.stringMatching(/type 5 with 4 bytes/),
      ]);
      // Before its token a peer is its address; after it, its node id too.
      expect(errors.map((e) => e.peer)).toEqual([
        expect.stringMatching(/^127\.0\.0\.1:\d+$/), expect.stringMatching(/^127\.0\.0\.1:\d+$/),
        expect.stringMatching(/^node 7 \(127\.0\.0\.1:\d+\)$/), expect.stringMatching(/^node 8 \(127\.0\.0\.1:\d+\)$/),
        expect.stringMatching(/^node 9 \(127\.0\.0\.1:\d+\)$/),
      ]);
      // Meanwhile the two nodes ran their scenario as if nothing happened.
      const results = await Promise.all(nodes.map(async (n, i) => (await n.next('result', `node ${i}'s result`)).result));
      expect(results).toEqual(await inProcess('odp', 'rdma'));
      expect(nodes[1]!.seen('net-error')).toEqual([]);
    } finally {
      stop(nodes);
    }
  });
});
