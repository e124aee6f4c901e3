// Point-to-point scenarios in the spirit of MPICH's test/mpi/pt2pt, run on 3 ranks by pt2pt.test.ts
// under several eager thresholds and both adapters. Each scenario returns what it observed
// (statuses, orders, data checks, counter deltas); the test asserts them.
import {
  ANY_SOURCE, ANY_TAG, PROC_NULL, Request, UNDEFINED, TruncationError, init, type Comm, type MessageCounters, type TypedBuffer,
} from '@tsmpi/mpi';

const world = init();
const { rank } = world;
const eager = Number(process.argv[2] ?? 12288);
const out: Record<string, unknown> = {};

function counters(): MessageCounters {
  return { ...world.stats().messages };
}
function delta(before: MessageCounters): Partial<MessageCounters> {
  const now = counters();
  const d: Partial<MessageCounters> = {};
  for (const k of Object.keys(now) as (keyof MessageCounters)[]) if (now[k] !== before[k]) d[k] = now[k] - before[k];
  return d;
}
function pattern(buf: TypedBuffer<Uint8Array>, seed: number): void {
  const a = new Uint8Array(buf.count);
  for (let i = 0; i < a.length; i++) a[i] = (i * 31 + seed * 7) & 0xff;
  buf.set(a);
}
function badBytes(buf: TypedBuffer<Uint8Array>, seed: number): number {
  const a = buf.toArray();
  let bad = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== ((i * 31 + seed * 7) & 0xff)) bad++;
  return bad;
}
function sync(comm: Comm): void {
  // a tiny barrier of our own (collectives are tested elsewhere)
  if (comm.rank === 0) {
    for (let r = 1; r < comm.size; r++) comm.recvObject(r, 9999);
    for (let r = 1; r < comm.size; r++) comm.sendObject('go', r, 9998);
  } else {
    comm.sendObject('ready', 0, 9999);
    comm.recvObject(0, 9998);
  }
}

// 1. ANY_SOURCE takes the earliest arrival: rank 1 sends, then tells rank 2 to send; rank 0 waits
//    until both are there, then receives with ANY_SOURCE twice.
{
  const b = world.alloc(Int32Array, 1);
  if (rank === 1) {
    b.set([1]);
    world.send(b, 0, 5);
    world.sendObject('your turn', 2, 6);
  } else if (rank === 2) {
    world.recvObject(1, 6);
    b.set([2]);
    world.send(b, 0, 5);
  } else {
    world.probe(2, 5); // rank 2's message is in, so rank 1's (sent before) is too
    const s1 = world.recv(b, ANY_SOURCE, ANY_TAG);
    const v1 = b.toArray()[0];
    const s2 = world.recv(b, ANY_SOURCE, 5);
    out.anySource = { first: [s1.source, v1], second: [s2.source, b.toArray()[0]] };
  }
  b.free();
  sync(world);
}

// 2. Non-overtaking across protocols: one stream mixing eager and rendezvous sizes, same tag.
{
  const sizes = [8, eager + 100, 16, 0, eager * 2 + 5, 1, eager - 1, eager, 300_000, 3];
  if (rank === 1) {
    const bufs = sizes.map((n, i) => {
      const b = world.alloc(Uint8Array, n);
      pattern(b, i);
      return b;
    });
    const reqs = bufs.map((b) => world.isend(b, 0, 7));
    Request.waitAll(reqs);
    bufs.forEach((b) => b.free());
  } else if (rank === 0) {
    const seen: number[] = [];
    let bad = 0;
    for (let i = 0; i < sizes.length; i++) {
      const st = world.probe(1, 7);
      const b = world.alloc(Uint8Array, st.byteCount);
      world.recv(b, 1, 7);
      seen.push(st.byteCount);
      bad += badBytes(b, i);
      b.free();
    }
    out.order = { seen, expected: sizes, bad };
  }
  sync(world);
}

// 3. Unexpected messages of every size: all sent before any receive is posted.
{
  const sizes = [0, 1, 8, 1024, eager - 1, eager, eager + 1, 65536, 1 << 20];
  if (rank === 0) {
    const before = counters();
    const bufs = sizes.map((n, i) => {
      const b = world.alloc(Uint8Array, n);
      pattern(b, 100 + i);
      return b;
    });
    const reqs = bufs.map((b, i) => world.isend(b, 1, 20 + i));
    world.sendObject('all posted', 1, 19);
    Request.waitAll(reqs);
    bufs.forEach((b) => b.free());
    out.unexpectedSender = delta(before);
  } else if (rank === 1) {
    world.recvObject(0, 19);
    const before = counters();
    const results = [...sizes].reverse().map((n, j) => {
      const i = sizes.length - 1 - j;
      const b = world.alloc(Uint8Array, n);
      const st = world.recv(b, 0, 20 + i);
      const r = { n, count: st.count, tag: st.tag, bad: badBytes(b, 100 + i) };
      b.free();
      return r;
    });
    out.unexpectedReceiver = { results, counters: delta(before) };
  }
  sync(world);
}

// 4. Truncation: a typed error at the receiver, success at the sender, and the pair keeps working.
{
  const cases = [100, eager + 1000];
  if (rank === 0) {
    const statuses = cases.map((n, i) => {
      const b = world.alloc(Uint8Array, n);
      world.send(b, 1, 40 + i);
      b.free();
      return 'sent';
    });
    const b = world.alloc(Int32Array, 1);
    b.set([77]);
    world.send(b, 1, 49);
    out.truncSender = statuses;
  } else if (rank === 1) {
    const errs = cases.map((n, i) => {
      const b = world.alloc(Uint8Array, n - 1);
      try {
        world.recv(b, 0, 40 + i);
        return 'no error';
      } catch (e) {
        const t = e as TruncationError;
        return { name: t.name, code: t.code, messageBytes: t.messageBytes, bufferBytes: t.bufferBytes, hint: /probe\(\)/.test(t.message) };
      } finally {
        b.free();
      }
    });
    const b = world.alloc(Int32Array, 1);
    world.recv(b, 0, 49);
    out.truncReceiver = { errs, after: b.toArray()[0], truncations: world.stats().messages.truncations };
  }
  sync(world);
}

// 5. Self-sends, small and large, plus PROC_NULL and zero-length.
if (rank === 2) {
  const small = world.alloc(Float64Array, 4);
  small.set([1.5, 2.5, 3.5, 4.5]);
  const r1 = world.alloc(Float64Array, 4);
  world.send(small, 2, 1); // buffered: completes before the receive
  const s1 = world.recv(r1, 2, 1);
  const big = world.alloc(Uint8Array, eager * 3);
  pattern(big, 5);
  const rbig = world.alloc(Uint8Array, eager * 3);
  const sreq = world.isend(big, 2, 2);
  const s2 = world.recv(rbig, ANY_SOURCE, 2);
  sreq.wait();
  const pn = world.recv(r1, PROC_NULL, 3);
  world.send(r1, PROC_NULL, 3);
  const zero = world.alloc(Uint8Array, 0);
  world.isend(zero, 2, 4);
  const sz = world.recv(zero, 2, 4);
  out.self = {
    small: { status: s1, data: Array.from(r1.toArray()) },
    big: { source: s2.source, count: s2.count, bad: badBytes(rbig, 5) },
    procNull: pn,
    zero: sz,
    selfSends: world.stats().messages.selfSends,
  };
}
sync(world);

// 6. Many outstanding large messages, received in reverse tag order; waitAny / test / await.
{
  const n = 12;
  const bytes = Math.max(eager * 2, 64 * 1024);
  if (rank === 0) {
    const bufs = Array.from({ length: n }, (_, i) => {
      const b = world.alloc(Uint8Array, bytes);
      pattern(b, 200 + i);
      return b;
    });
    Request.waitAll(bufs.map((b, i) => world.isend(b, 1, 60 + i)));
    bufs.forEach((b) => b.free());
  } else if (rank === 1) {
    const bufs = Array.from({ length: n }, () => world.alloc(Uint8Array, bytes));
    const reqs = bufs.map((b, i) => world.irecv(b, 0, 60 + (n - 1 - i)));
    const first = Request.waitAny(reqs);
    const statuses = await Request.all(reqs);
    const bad = bufs.reduce((acc, b, i) => acc + badBytes(b, 200 + (n - 1 - i)), 0);
    out.outstanding = { tags: statuses.map((s) => s.tag), bad, anyIndexValid: first.index >= 0 && first.index < n };
    bufs.forEach((b) => b.free());
  }
  sync(world);
}

// 7. Probe, matched probe, status counts in elements, polling costs virtual time.
{
  if (rank === 0) {
    const d = world.alloc(Float64Array, 10);
    d.set(Array.from({ length: 10 }, (_, i) => i / 4));
    world.send(d, 1, 70);
    world.send(d, 1, 71);
    d.free();
  } else if (rank === 1) {
    const p = world.probe(0, ANY_TAG);
    const m = world.mprobe(0, 71);
    const probeAgain = world.iprobe(0, 71); // the matched message is gone from matching
    const r = world.alloc(Float64Array, 10);
    const ms = m.recv(r);
    const mdata = Array.from(r.toArray());
    const st = world.recv(r, 0, 70);
    const t0 = world.wtime();
    const pending = world.irecv(r, 0, 72);
    let polls = 0;
    while (pending.test() === undefined && polls < 5) polls++;
    const pollUs = (world.wtime() - t0) * 1e6;
    world.sendObject('go', 0, 73);
    await pending;
    out.probe = { probe: p, mstatus: ms, mdata, probeAgain: probeAgain ?? null, status: st, polls, pollUs };
  }
  if (rank === 0) {
    world.recvObject(1, 73);
    const d = world.alloc(Float64Array, 10);
    world.send(d, 1, 72);
    d.free();
  }
  sync(world);
}

// 8. Objects: small, large (rendezvous), nonblocking; never truncated.
{
  const big = { values: Array.from({ length: 5000 }, (_, i) => i * 1.25), name: 'x'.repeat(eager) };
  if (rank === 0) {
    world.sendObject({ hello: 'world', n: 42, nested: [1, [2, 3]] }, 1, 80);
    world.sendObject(big, 1, 81);
    await world.isendObject(new Float64Array([1, 2, 3]), 1, 82);
  } else if (rank === 1) {
    const small = world.recvObject(0, 80);
    const r = world.irecvObject(0, 81);
    const status = r.wait();
    const got = r.value as typeof big;
    const typed = world.recvObject<Float64Array>(0, 82);
    out.objects = {
      small,
      bigOk: got.values.length === 5000 && got.values[4999] === 4999 * 1.25 && got.name.length === eager,
      bigBytes: status.byteCount,
      typed: Array.from(typed),
      typedIsFloat64: typed instanceof Float64Array,
    };
  }
  sync(world);
}

// 9. Bad arguments raise typed errors that say what to do.
if (rank === 0) {
  const b = world.alloc(Int32Array, 4);
  const errs: Record<string, { code?: string; message: string }> = {};
  const tryIt = (name: string, f: () => unknown) => {
    try {
      f();
      errs[name] = { message: 'no error' };
    } catch (e) {
      errs[name] = { code: (e as { code?: string }).code, message: (e as Error).message };
    }
  };
  tryIt('rankOutOfRange', () => world.send(b, world.size, 0));
  tryIt('negativeTag', () => world.send(b, 1, -5));
  tryIt('anyTagOnSend', () => world.send(b, 1, ANY_TAG));
  tryIt('plainTypedArray', () => world.send(new Int32Array(4) as never, 1, 0));
  tryIt('unmappedBuffer', () => world.send(world.wrap(Int32Array, 0x10, 4), 1, 0));
  tryIt('freedBuffer', () => {
    const f = world.alloc(Int32Array, 4);
    f.free();
    world.send(f, 1, 0);
  });
  tryIt('badSource', () => world.recv(b, 17, 0));
  tryIt('wrongAllocType', () => world.alloc(Array as never, 3));
  out.badArgs = errs;
  b.free();
}
sync(world);

// 11. waitAny visits every request once, then answers UNDEFINED (MPI_UNDEFINED), as for an empty list.
{
  if (rank === 0) {
    for (let t = 0; t < 5; t++) world.sendObject(t * 10, 1, 90 + t);
  } else if (rank === 1) {
    const reqs = [4, 3, 2, 1, 0].map((t) => world.irecvObject(0, 90 + t));
    const visited: number[] = [];
    for (;;) {
      const { index } = Request.waitAny(reqs);
      if (index === UNDEFINED) break;
      visited.push(index);
    }
    out.waitAny = { visited: [...visited].sort(), values: reqs.map((r) => r.value), again: Request.waitAny(reqs).index, empty: Request.waitAny([]).index };
  }
  sync(world);
}

// 10. Zero-copy view of a buffer that fits in one page: writes through it are the buffer's bytes.
if (rank === 0) {
  const v = world.alloc(Float64Array, 16);
  const arr = v.view();
  arr[3] = 42.5;
  const seen = v.toArray()[3];
  v.set([7], 5);
  const back = v.view()[5];
  v.free();
  let after = 'no error';
  try {
    v.view();
  } catch (e) {
    after = (e as { code: string }).code;
  }
  out.view = { seen, back, after };
}
sync(world);

export function main() {
  return out;
}
