// Synchronous sends, persistent requests, cancel (MPICH test/mpi/pt2pt sendself, ssendtest, persistent,
// cancelrecv in spirit), and a nonblocking collective progressing while its rank blocks in a recv.
// Rank 1 posts its receives only after rank 0's "go", so rank 0 knows an ssend cannot have matched.
import { Request, type Comm } from '@tsmpi/mpi';

const POLLS = 50;

export function main(c: Comm) {
  const out: Record<string, unknown> = {};
  const { rank } = c;
  const code = (f: () => unknown) => { try { f(); return 'no error'; } catch (e) { return (e as { code?: string }).code; } };

  // ssend / issend at 0 B, 8 B (eager with an acknowledgement) and 64 KiB (rendezvous); isend for contrast.
  for (const bytes of [0, 8, 65536]) {
    const n = bytes / 8;
    if (rank === 0) {
      const b = c.alloc(Float64Array, n);
      b.fill(bytes + 0.5);
      const r = c.issend(b, 1, 1);
      let early = 0;
      for (let i = 0; i < POLLS; i++) if (r.test()) early++;
      c.sendObject('go', 1, 9);
      r.wait();
      out[`issend ${bytes}`] = early;
      const plain = c.isend(b, 1, 2);
      let plainEarly = 0;
      for (let i = 0; i < POLLS; i++) if (plain.test()) plainEarly++;
      c.sendObject('go', 1, 9);
      plain.wait();
      out[`isend ${bytes}`] = plainEarly > 0;
      c.ssend(b, 1, 3); // blocking form: returns once matched
    } else if (rank === 1) {
      const b = c.alloc(Float64Array, n);
      for (const tag of [1, 2]) {
        c.recvObject(0, 9);
        b.fill(-1);
        c.recv(b, 0, tag);
        if (n > 0 && b.toArray()[n - 1] !== bytes + 0.5) out[`data ${bytes} tag ${tag}`] = 'wrong';
      }
      c.recv(b, 0, 3);
    }
  }
  // to itself: the ssend completes only when the receive is posted
  if (rank === 0) {
    const b = c.alloc(Int32Array, 1);
    b.set([7]);
    const r = c.issend(b, 0, 5);
    out.selfBefore = r.test() !== undefined;
    const got = c.alloc(Int32Array, 1);
    c.recv(got, 0, 5);
    out.selfAfter = r.test() !== undefined;
    out.selfData = got.toArray()[0];
  }

  // persistent: 10 rounds of a 64 KiB send; the sender's cache sees one acquire, not ten
  const ROUNDS = 10;
  if (rank === 0) {
    const b = c.alloc(Float64Array, 8192);
    const gets = () => c.stats().rcache.gets ?? 0;
    let g0 = gets();
    for (let i = 0; i < ROUNDS; i++) { b.fill(i); c.send(b, 1, 20); }
    out.getsIsend = gets() - g0;
    const p = c.sendInit(b, 1, 21);
    out.inactiveWait = p.wait().source;
    g0 = gets();
    for (let i = 0; i < ROUNDS; i++) { b.fill(100 + i); p.start(); p.wait(); }
    out.getsPersistent = gets() - g0;
    out.startWhileActive = code(() => { p.start(); p.start(); });
    p.wait();
    const puts0 = c.stats().rcache.puts ?? 0;
    p.free();
    out.putsAtFree = (c.stats().rcache.puts ?? 0) - puts0;
    out.startAfterFree = code(() => p.start());
    out.startPlain = code(() => c.isend(b, 1, 22).start());
    c.recv(b, 1, 23);
  } else if (rank === 1) {
    const b = c.alloc(Float64Array, 8192);
    for (let i = 0; i < ROUNDS; i++) c.recv(b, 0, 20);
    const p = c.recvInit(b, 0, 21);
    const seen: number[] = [];
    for (let i = 0; i < ROUNDS + 1; i++) {
      p.start();
      p.wait();
      seen.push(b.toArray()[8191]!);
    }
    out.persistentData = seen;
    p.free();
    c.recv(b, 0, 22);
    // two persistent receives started together
    const x = c.alloc(Int32Array, 1), y = c.alloc(Int32Array, 1);
    const both = [c.recvInit(x, 2, 30), c.recvInit(y, 2, 31)];
    Request.startAll(both);
    Request.waitAll(both);
    out.startAll = [x.toArray()[0], y.toArray()[0]];
    c.send(b, 0, 23);
  } else if (rank === 2) {
    const v = c.alloc(Int32Array, 1);
    v.set([31]);
    c.send(v, 1, 31);
    v.set([30]);
    c.send(v, 1, 30);
  }

  // cancel: a receive nothing matches is withdrawn; one already matched completes as usual
  if (rank === 1) {
    const b = c.alloc(Int32Array, 1);
    const r = c.irecv(b, 0, 77);
    r.cancel();
    const st = r.wait();
    out.cancelled = [r.cancelled, st.cancelled === true];
    c.probe(0, 78);
    const m = c.irecv(b, 0, 78);
    m.cancel();
    m.wait();
    out.cancelTooLate = [m.cancelled, b.toArray()[0]];
    out.cancelSend = code(() => c.isend(b, 0, 79).cancel());
    c.recv(b, 0, 79);
  } else if (rank === 0) {
    const b = c.alloc(Int32Array, 1);
    b.set([78]);
    c.send(b, 1, 78);
    c.send(b, 1, 79);
    c.recv(b, 1, 79);
  }

  // a nonblocking barrier moves on while rank 0 blocks in a recv that needs rank 2's barrier done:
  // rank 3 starts its barrier only after rank 0's "go", so rank 0's first round cannot be complete
  // before rank 0 blocks, and rank 2 waits for rank 0's second-round token
  c.barrier();
  if (rank === 3) c.recvObject(0, 41);
  const bar = c.ibarrier();
  const v = c.alloc(Int32Array, 1);
  if (rank === 0) {
    c.sendObject('go', 3, 41);
    c.recv(v, 2, 40);
    out.barrierDoneBeforeWait = bar.completed;
  } else if (rank === 2) {
    bar.wait();
    v.set([40]);
    c.send(v, 0, 40);
  }
  bar.wait();
  return out;
}
