// Request sets: waitSome, testAll, testAny, testSome on 3 ranks. Rank 2 sends only when rank 0
// tells it to, so rank 0 knows which of its receives can be complete at each call.
import { Request, type Comm } from '@tsmpi/mpi';

export function main(c: Comm) {
  const out: Record<string, unknown> = {};
  const polls = () => c.stats().messages.tests;
  if (c.rank === 1) {
    const b = c.alloc(Int32Array, 1);
    b.set([11]);
    c.send(b, 0, 1);
    const big = c.alloc(Int32Array, 4);
    c.send(big, 0, 3); // into a 1-element receive: truncated at rank 0
  } else if (c.rank === 2) {
    c.recvObject(0, 9);
    const b = c.alloc(Int32Array, 1);
    b.set([22]);
    c.send(b, 0, 2);
  } else {
    const from1 = c.alloc(Int32Array, 1);
    const from2 = c.alloc(Int32Array, 1);
    const rs = [c.irecv(from1, 1, 1), c.irecv(from2, 2, 2)];
    const first = Request.waitSome(rs);
    out.first = { indices: first.indices, sources: first.statuses.map((s) => s.source), value: from1.toArray()[0] };
    let p0 = polls();
    out.testAll = Request.testAll(rs) === undefined;
    out.testAny = Request.testAny(rs) === undefined;
    out.testSome = Request.testSome(rs).indices;
    out.pollsWhilePending = polls() - p0; // one modeled poll each
    c.sendObject('go', 2, 9);
    const second = Request.waitSome(rs);
    out.second = { indices: second.indices, value: from2.toArray()[0] };
    out.afterAllSeen = [Request.waitSome(rs).indices, Request.testSome(rs).indices, Request.testAny(rs)?.index, Request.waitAny(rs).index];

    // Everything already complete: testAll returns every status without polling.
    const self = c.alloc(Int32Array, 2);
    const mine = [c.irecv(self.subarray(0, 1), 0, 5), c.isend(self.subarray(1, 2), 0, 5)];
    Request.waitSome([mine[1]!]);
    p0 = polls();
    const all = Request.testAll(mine);
    out.testAllDone = all?.map((s) => s.source);
    out.pollsWhenDone = polls() - p0;
    out.testAllAgain = Request.testAll(mine)?.length;

    // An error is thrown by the set call that returns its request.
    const small = c.alloc(Int32Array, 1);
    try {
      Request.waitSome([c.irecv(small, 1, 3)]);
      out.truncation = 'no error';
    } catch (e) {
      out.truncation = `${(e as { code?: string }).code} ${(e as { failures?: { error: { code?: string } }[] }).failures?.[0]?.error.code}`;
    }
  }
  return out;
}
