// Communicator creation and life, in the spirit of MPICH's test/mpi/comm: commcreate1 (Comm_create,
// also with disjoint groups), comm_create_group and comm_group_half, comm_idup, comm_idup_mul and
// comm_idup_overlap (overlapping pairs dup'd at once), commname, cmfree (pending operations finish
// after free), cmsplit_type and ctxalloc (many dup/free rounds; what happens when ids run out).
import { CONGRUENT, COMM_TYPE_SHARED, IDENT, Request, SIMILAR, SUM, UNDEFINED, UNEQUAL, init, type Comm } from '@tsmpi/mpi';
import { errorCodeOf } from './checks.js';

const world = init();
const { rank, size } = world;

function sum(comm: Comm, v: number): number {
  const s = comm.alloc(Int32Array, 1);
  const r = comm.alloc(Int32Array, 1);
  s.set([v]);
  comm.allreduce(s, r, SUM);
  return r.toArray()[0]!;
}

/** Everyone sends its world rank to the next rank of `comm` and reports what came from the previous one. */
function ring(comm: Comm, tag: number): number {
  return comm.sendrecvObject<number>(rank, (comm.rank + 1) % comm.size, tag, (comm.rank - 1 + comm.size) % comm.size, tag);
}

export function main() {
  const out: Record<string, unknown> = {};
  const g = world.group();
  const evens = g.rangeIncl([[0, size - 1, 2]]);
  const odds = size > 1 ? g.rangeIncl([[1, size - 1, 2]]) : g.incl([]);

  // Comm_create: one group (the others get null), then disjoint groups at once
  const ce = world.commCreate(evens);
  out.create = ce && { size: ce.size, rank: ce.rank, sum: sum(ce, rank) };
  const cb = world.commCreate(rank % 2 ? odds : evens)!;
  out.createDisjoint = { size: cb.size, rank: cb.rank, sum: sum(cb, rank), ring: ring(cb, 3) };

  // Comm_create_group: each half makes its communicator without the other half taking part
  const half = Math.ceil(size / 2);
  const low = rank < half;
  const cg = world.commCreateGroup(low ? g.rangeIncl([[0, half - 1, 1]]) : g.rangeIncl([[half, size - 1, 1]]), low ? 7 : 8);
  cg.barrier();
  out.createGroup = { size: cg.size, rank: cg.rank, sum: sum(cg, rank) };
  out.createGroupOutsider = errorCodeOf(() => world.commCreateGroup(g.incl([(rank + 1) % size]).difference(g.incl([rank])), 1));

  // idup: several at once on world, completed together; each is its own context
  const reqs = [0, 1, 2, 3].map(() => world.idup());
  Request.waitAll(reqs);
  const dups = reqs.map((r) => r.value as Comm);
  // the same (source, tag) on each, received in the reverse order: no message crosses communicators
  if (size > 1) {
    const right = (rank + 1) % size;
    const left = (rank - 1 + size) % size;
    const sends = dups.map((d, i) => d.isendObject(`dup ${i} from ${rank}`, right, 9));
    out.idupMessages = [...dups].reverse().map((d) => d.recvObject(left, 9));
    Request.waitAll(sends);
  }
  out.idupCompare = dups.map((d) => d.compare(world));
  out.idupSums = dups.map((d) => sum(d, 1));

  // overlapping pairs {i, i+1}, both dup'd by idup before either completes (a blocking dup would deadlock)
  if (size > 1) {
    const pair = (i: number) => world.commCreateGroup(g.incl(size === 2 ? [i % 2, (i + 1) % 2] : [i, (i + 1) % size]), i);
    const mine = rank === 0 ? [pair(0), pair(size - 1)] : [pair(rank - 1), pair(rank)];
    const pending = mine.map((c) => c.idup());
    Request.waitAll(pending);
    out.idupOverlap = pending.map((r) => {
      const d = r.value as Comm;
      return d.sendrecvObject<number>(rank, 1 - d.rank, 4, 1 - d.rank, 4);
    });
  }

  // names
  const d = world.dup();
  out.names = { world: world.getName(), dup: d.getName() };
  d.setName('the dup');
  world.setName('everyone');
  out.names = { ...(out.names as object), set: d.getName(), worldSet: world.getName(), tooLong: errorCodeOf(() => d.setName('x'.repeat(129))) };

  // compare
  const reversed = world.split(0, -rank)!;
  out.compare = {
    self: world.compare(world), dup: world.compare(d), reversed: world.compare(reversed),
    evens: ce ? world.compare(ce) : -1, twoDups: dups[0]!.compare(dups[1]!),
  };

  // free: operations posted before free() complete; every later call is refused, typed
  const f = world.dup();
  const got = f.alloc(Float64Array, 1000);
  const sent = f.alloc(Float64Array, 1000);
  sent.set(Array.from({ length: 1000 }, (_, i) => rank * 1000 + i));
  const rr = f.irecv(got, (rank - 1 + size) % size, 2);
  const sr = f.isend(sent, (rank + 1) % size, 2);
  f.free();
  Request.waitAll([rr, sr]);
  const left = (rank - 1 + size) % size;
  out.free = {
    delivered: got.toArray().every((v, i) => v === left * 1000 + i),
    sendAfter: errorCodeOf(() => f.send(sent, 0, 1)),
    barrierAfter: errorCodeOf(() => f.barrier()),
    dupAfter: errorCodeOf(() => f.dup()),
    freeAgain: errorCodeOf(() => f.free()),
    freeWorld: errorCodeOf(() => world.free()),
  };

  // splitType: one communicator per simulated node
  const node = world.splitType(COMM_TYPE_SHARED, -rank)!;
  out.shared = { size: node.size, rank: node.rank, members: node.group().translateRanks([...Array(node.size).keys()], g) };
  out.sharedUndefined = world.splitType(UNDEFINED);
  out.splitTypeBad = errorCodeOf(() => world.splitType(99));

  // ctxalloc: many batches of dup + free, each dup checked with a message
  const base = world.dup();
  let checked = 0;
  for (let batch = 0; batch < 10; batch++) {
    const made = Array.from({ length: 8 }, () => base.dup());
    const last = made[made.length - 1]!;
    if (ring(last, batch) === (rank - 1 + size) % size) checked++;
    for (const c of made) c.free();
  }
  out.ctxalloc = checked;

  // ids run out: the leader's counter pushed to its end (an internal field, set on every rank alike)
  const rt = (world as unknown as { runtime: { nextContext: number } }).runtime;
  rt.nextContext = Math.floor((2 ** 29 - 1) / size); // rank 0 (every leader below) can draw one id more
  const lastOk = errorCodeOf(() => world.dup());
  out.exhausted = { lastOk, dup: errorCodeOf(() => world.dup()), split: errorCodeOf(() => world.split(0)), idup: errorCodeOf(() => world.idup().wait()) };
  out.constants = [IDENT, CONGRUENT, SIMILAR, UNEQUAL];
  return out;
}
