// Cartesian topologies (MPICH test/mpi/topo cartshift1, cartsuball in spirit) and the neighbourhood
// collectives, on 8 ranks. Each rank checks what it can see and reports the rest to the test.
import { PROC_NULL, computeDims, type CartComm, type Comm } from '@tsmpi/mpi';

export function main(world: Comm) {
  const wrong: string[] = [];
  const same = (what: string, got: unknown, want: unknown) => {
    if (JSON.stringify(got) !== JSON.stringify(want)) wrong.push(`${what}: ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  };
  const { rank, size } = world;

  // A 4 × 2 grid, periodic along dimension 0 only.
  const dims = computeDims(size, 2);
  const cart = world.cartCreate(dims, [true, false])!;
  same('dims', [cart.dims, cart.periods, cart.size, cart.rank], [[4, 2], [true, false], 8, rank]);
  const [x, y] = cart.coords();
  same('coords', [x, y], [Math.floor(rank / 2), rank % 2]);
  for (let r = 0; r < size; r++) if (cart.rankOf(cart.coords(r)) !== r) wrong.push(`rankOf(coords(${r}))`);
  same('rankOf wraps a periodic dimension', cart.rankOf([x! + 4, y!]), rank);
  try {
    cart.rankOf([x!, y! + 2]);
    wrong.push('rankOf past a non-periodic edge did not throw');
  } catch (e) {
    same('rankOf past the edge', (e as { code?: string }).code, 'MPI_ERR_ARG');
  }

  // cartshift1: along the periodic dimension every rank has both neighbours, wrapping.
  const s0 = cart.shift(0, 1);
  same('shift(0, 1)', s0, { source: cart.rankOf([(x! + 3) % 4, y!]), dest: cart.rankOf([(x! + 1) % 4, y!]) });
  same('shift(0, 3)', cart.shift(0, 3), { source: cart.rankOf([(x! + 1) % 4, y!]), dest: cart.rankOf([(x! + 3) % 4, y!]) });
  const s1 = cart.shift(1, 1);
  same('shift(1, 1)', s1, { source: y === 0 ? PROC_NULL : rank - 1, dest: y === 1 ? PROC_NULL : rank + 1 });
  // Shift data along each dimension with sendrecv: PROC_NULL ends need no special case.
  const out = cart.alloc(Int32Array, 1);
  const got = cart.alloc(Int32Array, 1);
  out.set([100 + rank]);
  for (const [d, sh] of [[0, s0], [1, s1]] as const) {
    got.set([-1]);
    const st = cart.sendrecv(out, sh.dest, 7, got, sh.source, 7);
    same(`shifted data along ${d}`, [got.toArray()[0], st.source], sh.source === PROC_NULL ? [-1, PROC_NULL] : [100 + sh.source, sh.source]);
  }

  // cartsuball: keeping every dimension gives the same grid; rows and columns; nothing kept: one rank.
  const all = cart.sub([true, true]);
  same('sub(all)', [all.size, all.rank, all.dims, all.periods], [8, rank, [4, 2], [true, false]]);
  const column = cart.sub([true, false]);
  same('sub(column)', [column.size, column.rank, column.dims, column.periods], [4, x, [4], [true]]);
  same('column members', column.allgatherObject(rank), [0, 2, 4, 6].map((r) => r + y!));
  const row = cart.sub([false, true]);
  same('sub(row)', [row.size, row.rank, row.dims], [2, y, [2]]);
  same('row members', row.allgatherObject(rank), [2 * x!, 2 * x! + 1]);
  const none = cart.sub([false, false]);
  same('sub(none)', [none.size, none.rank, none.ndims], [1, 0, 0]);

  // Neighbourhood collectives: neighbours per dimension, down then up.
  const nb = cart.neighbors();
  same('neighbors', nb, [s0.source, s0.dest, s1.source, s1.dest]);
  const mine = cart.alloc(Float64Array, 2);
  mine.set([rank, rank + 0.5]);
  const gathered = cart.alloc(Float64Array, 8);
  gathered.fill(-1);
  cart.neighborAllgather(mine, gathered);
  same('neighborAllgather', Array.from(gathered.toArray()), nb.flatMap((q) => (q === PROC_NULL ? [-1, -1] : [q, q + 0.5])));
  const blocks = cart.alloc(Int32Array, 4);
  blocks.set([0, 1, 2, 3].map((k) => rank * 10 + k));
  const swapped = cart.alloc(Int32Array, 4);
  swapped.fill(-1);
  cart.neighborAlltoall(blocks, swapped);
  // neighbour k = 2d + up sent me its block for the opposite direction, 2d + 1 - up
  same('neighborAlltoall', Array.from(swapped.toArray()), nb.map((q, k) => (q === PROC_NULL ? -1 : q * 10 + (k ^ 1))));

  // A periodic ring of 2 (both neighbours are the same rank) and of 1 (both are this rank):
  // the direction in the tag keeps the blocks apart.
  const ring: (CartComm | null)[] = [world.cartCreate([2], [true]), world.cartCreate([1], [true])];
  const rings: number[][] = [];
  for (const c of ring) {
    if (!c) continue;
    const s = c.alloc(Int32Array, 2);
    s.set([c.rank * 10, c.rank * 10 + 1]);
    const r = c.alloc(Int32Array, 2);
    c.neighborAlltoall(s, r);
    rings.push(Array.from(r.toArray()));
  }

  // 6 of 8 ranks in a 3 × 2 grid; the others get null.
  const part = world.cartCreate([3, 2]);
  let tooBig = '';
  try {
    world.cartCreate([3, 3]);
  } catch (e) {
    tooBig = (e as { code?: string }).code ?? String(e);
  }
  return { rank, wrong, rings, part: part && [part.size, part.rank], tooBig };
}
