// Point-to-point calls of MPICH test/mpi/pt2pt in spirit: bsend1-5/bsendpending (attach, bsend and
// ibsend of eager and rendezvous sizes, detach waiting for them, a buffer too small, attach twice),
// isendrecv, isendrecv_replace and sendrecv_replace (ring exchange), rqfree (free active sends and
// receives), rqstatus (getStatus before and after, then wait), waitany_null (empty lists) and
// per-status errors (MPI_ERR_IN_STATUS from waitAll with one truncated receive). Any number of ranks.
import { BSEND_OVERHEAD, ErrorInStatus, Request, UNDEFINED, type Comm } from '@tsmpi/mpi';
import { elementChecker, errorCodeOf } from './checks.js';

export function main(c: Comm) {
  const { rank, size: p } = c;
  const wrong: string[] = [];
  const expect = elementChecker(wrong);
  const right = (rank + 1) % p;
  const left = (rank - 1 + p) % p;
  const fill = (n: number, from: number, salt: number) => Int32Array.from({ length: n }, (_, i) => from * 100000 + salt * 1000 + i);
  const out: Record<string, unknown> = {};

  // bsend: each rank sends 3 messages (8 B, 4 KiB, 64 KiB: eager and rendezvous) to the right,
  // reusing and overwriting its send buffer at once; the left neighbour receives them after.
  const sizes = [2, 1024, 16384];
  const bytes = sizes.reduce((n, k) => n + 4 * k + BSEND_OVERHEAD, 0);
  const attachedBuf = c.alloc(Uint8Array, bytes);
  c.bufferAttach(attachedBuf);
  out.attachTwice = errorCodeOf(() => c.bufferAttach(attachedBuf));
  const src = c.alloc(Int32Array, 16384);
  sizes.forEach((n, k) => {
    const s = src.subarray(0, n);
    s.set(fill(n, rank, k));
    if (k === 1) c.ibsend(s, right, 10 + k).wait();
    else c.bsend(s, right, 10 + k);
    src.fill(-1); // the message was copied: overwriting the user buffer changes nothing
  });
  // the buffer is full now: one more message does not fit while those are in flight
  out.tooSmall = errorCodeOf(() => c.bsend(src.subarray(0, 16384), right, 19));
  c.barrier(); // nobody has received yet: the buffered messages wait in flight
  sizes.forEach((n, k) => {
    const r = c.alloc(Int32Array, n);
    c.recv(r, left, 10 + k);
    expect(`bsend ${n}`, r.toArray(), fill(n, left, k));
    r.free();
  });
  out.detached = c.bufferDetach() === attachedBuf;
  out.detachTwice = errorCodeOf(() => c.bufferDetach());
  out.noBuffer = errorCodeOf(() => c.bsend(src.subarray(0, 1), right, 18));
  // bsend5: attach again, a smaller buffer, many messages one at a time
  const small = c.alloc(Uint8Array, 64 + BSEND_OVERHEAD);
  c.bufferAttach(small);
  for (let k = 0; k < 5; k++) {
    const s = src.subarray(0, 16);
    s.set(fill(16, rank, 20 + k));
    c.bsend(s, right, 30);
    const r = c.alloc(Int32Array, 16);
    c.recv(r, left, 30);
    expect(`bsend again ${k}`, r.toArray(), fill(16, left, 20 + k));
    r.free();
  }
  c.bufferDetach();

  // isendrecv and isendrecvReplace around the ring, eager and rendezvous sized
  for (const n of [3, 8192]) {
    const s = c.alloc(Int32Array, n);
    const r = c.alloc(Int32Array, n);
    s.set(fill(n, rank, 40));
    const req = c.isendrecv(s, right, 41, r, left, 41);
    const st = req.wait();
    expect(`isendrecv ${n}`, r.toArray(), fill(n, left, 40));
    if (st.source !== left || st.tag !== 41 || st.count !== n) wrong.push(`isendrecv ${n} status ${JSON.stringify(st)}`);
    s.set(fill(n, rank, 42));
    const st2 = c.isendrecvReplace(s, right, 43, left, 43).wait();
    expect(`isendrecvReplace ${n}`, s.toArray(), fill(n, left, 42));
    if (st2.source !== left || st2.count !== n) wrong.push(`isendrecvReplace ${n} status ${JSON.stringify(st2)}`);
    s.set(fill(n, rank, 44));
    c.sendrecvReplace(s, left, 45, right, 45); // the other way round
    expect(`sendrecvReplace ${n}`, s.toArray(), fill(n, right, 44));
    s.free();
    r.free();
  }

  // rqfree: free an active rendezvous send and an active receive; the bytes still arrive
  {
    const s = c.alloc(Int32Array, 4096);
    s.set(fill(4096, rank, 50));
    const sreq = c.isend(s, right, 50);
    sreq.free();
    out.waitFreed = errorCodeOf(() => sreq.wait());
    const r = c.alloc(Int32Array, 4096);
    c.recv(r, left, 50);
    expect('freed send', r.toArray(), fill(4096, left, 50));
    const small = c.alloc(Int32Array, 16);
    const rreq = c.irecv(small, left, 51);
    rreq.free();
    out.freeTwice = errorCodeOf(() => rreq.free());
    const t = c.alloc(Int32Array, 16);
    for (const k of [0, 1]) {
      t.set(fill(16, rank, 51 + k));
      c.send(t, right, 51);
    }
    // messages match receives in order: the second one here means the freed receive took the first
    c.recv(t, left, 51);
    expect('after the freed receive', t.toArray(), fill(16, left, 52));
    expect('freed receive', small.toArray(), fill(16, left, 51));
  }

  // rqstatus: getStatus is a test that leaves the request to wait()
  {
    const r = c.alloc(Int32Array, 2);
    const s = c.alloc(Int32Array, 2);
    s.set([rank, 7]);
    const rreq = c.irecv(r, left, 60);
    const before = rreq.getStatus() === undefined ? 'pending' : 'complete too early';
    c.barrier();
    c.send(s, right, 60);
    let st = rreq.getStatus();
    while (!st) st = rreq.getStatus();
    const again = rreq.getStatus();
    const waited = rreq.wait();
    out.getStatus = { before, source: st.source === left, again: again?.tag, waited: waited.count };
    expect('getStatus data', r.toArray(), [left, 7]);
  }

  // waitany_null: empty lists
  out.empty = [Request.waitAny([]).index, Request.testAny([])?.index, Request.waitAll([]).length, Request.waitSome([]).indices.length];
  out.UNDEFINED = UNDEFINED;

  // per-status errors: three receives from the left, the middle one 4 elements short
  {
    const s = c.alloc(Int32Array, 8);
    s.set(fill(8, rank, 70));
    const sends = [0, 1, 2].map((k) => c.isend(s, right, 70 + k));
    const r = [c.alloc(Int32Array, 8), c.alloc(Int32Array, 4), c.alloc(Int32Array, 8)];
    const recvs = r.map((b, k) => c.irecv(b, left, 70 + k));
    try {
      Request.waitAll(recvs);
      out.inStatus = 'no error';
    } catch (e) {
      const err = e as ErrorInStatus;
      out.inStatus = {
        code: err.code,
        isClass: e instanceof ErrorInStatus,
        failures: err.failures.map((f) => [f.index, (f.error as { code?: string }).code]),
        statuses: err.statuses.map((st) => [st.source === left, st.byteCount, (st.error as { code?: string } | undefined)?.code ?? 'ok']),
        names: err.message.includes('request 1:'),
      };
    }
    expect('in-status data 0', r[0]!.toArray(), fill(8, left, 70));
    expect('in-status data 2', r[2]!.toArray(), fill(8, left, 70));
    Request.waitAll(sends);
  }
  return { wrong, ...out };
}
