// The soak's rank program: STEPS seeded random steps that every rank draws alike (same seed), so all
// agree on each step: a send/recv between two ranks at a random size from a buffer that is freshly
// malloc'd, mmap'd (munmap'd after), carved from sbrk (given back after), or malloc'd and then
// migrated by the kernel (the registration cache and the ODP tables hear it through the notifier);
// a receive 8 bytes too short (it must fail with a TruncationError while the send completes, over
// whichever transport the pair uses); an allreduce; an object bcast. Every delivered byte is
// checked; setResult reports steps done, wrong deliveries and truncations seen.
import { SUM, TruncationError, init, setResult, type TypedBuffer } from '@tsmpi/mpi';

const world = init();
const steps = Number(process.argv[2] ?? 200);
let seed = Number(process.argv[3] ?? 1) >>> 0 || 1;
const rand = (n: number): number => {
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
  return seed % n;
};
const SIZES = [1, 100, 4096, 12 * 1024, 64 * 1024, 256 * 1024];
const PAGE = 4096;

/** A buffer of n bytes from `source`; its free() gives the memory back the way it came. */
function take(n: number, source: number): { set(b: Uint8Array): void; toArray(): Uint8Array; free(): void; view: TypedBuffer<Uint8Array> } {
  const space = world.space;
  if (source === 1 || source === 2) {
    const len = Math.ceil(Math.max(n, 1) / PAGE) * PAGE;
    const addr = source === 1 ? space.mmap(len) : space.sbrk(len);
    const view = world.wrap(Uint8Array, addr, n);
    const free = source === 1
      ? () => space.munmap(addr, len)
      // give the break back only if nothing moved it since (the heap's allocator may have grown it)
      : () => void (space.break === addr + len && space.sbrk(-len));
    return { view, set: (b) => view.set(b), toArray: () => view.toArray(), free };
  }
  const view = world.alloc(Uint8Array, n);
  if (source === 3) space.migrate(view.addr, Math.max(n, 1));
  return { view, set: (b) => view.set(b), toArray: () => view.toArray(), free: () => view.free() };
}
let wrong = 0;
let truncations = 0;
for (let s = 0; s < steps; s++) {
  const kind = rand(11);
  if (kind < 7 || kind === 10) {
    const from = rand(world.size);
    const to = (from + 1 + rand(world.size - 1)) % world.size;
    const n = SIZES[rand(SIZES.length)]!;
    const tag = s % 1000;
    const short = kind === 10 && n > 8;
    const source = rand(4); // 0 malloc, 1 mmap, 2 sbrk, 3 malloc then migrate
    if (world.rank === from || world.rank === to) {
      const buf = take(world.rank === to && short ? n - 8 : n, source);
      if (world.rank === from) {
        buf.set(new Uint8Array(n).map((_, j) => (s + j) & 0xff));
        world.send(buf.view, to, tag);
      } else if (short) {
        try {
          world.recv(buf.view, from, tag);
          wrong++; // a message 8 bytes longer than its buffer must not be delivered
        } catch (e) {
          if (!(e instanceof TruncationError)) throw e;
          truncations++;
        }
      } else {
        world.recv(buf.view, from, tag);
        const got = buf.toArray();
        for (let j = 0; j < n; j++) if (got[j] !== ((s + j) & 0xff)) { wrong++; break; }
      }
      buf.free();
    }
  } else if (kind < 9) {
    const a = world.alloc(Float64Array, 8);
    const b = world.alloc(Float64Array, 8);
    a.fill(world.rank + s);
    world.allreduce(a, b, SUM);
    const want = (world.size * (world.size - 1)) / 2 + world.size * s;
    if (b.toArray().some((v) => v !== want)) wrong++;
    a.free();
    b.free();
  } else {
    const root = rand(world.size);
    const got = world.bcastObject(world.rank === root ? { s, root } : undefined, root) as { s: number; root: number };
    if (got.s !== s || got.root !== root) wrong++;
  }
}
setResult({ steps, wrong, truncations });
