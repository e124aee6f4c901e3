/**
 * Micro-benchmark of @tsmpi/vm (wall-clock speed of the simulator's memory layer).
 *
 *   npx tsx --conditions=source bench/vm.ts        (or `npm run build` first, then npx tsx bench/vm.ts)
 *
 * 1. malloc/free pairs per second through the glibc-like Allocator: 64 B and 4 KiB (brk heap,
 *    bins), 256 KiB (mmap threshold: every pair is an mmap + munmap), and 256 KiB with the first
 *    byte touched (adds a demand fault and a frame alloc/free per pair). Baseline in the same run:
 *    the loop with two empty calls.
 * 2. Bytes per second moved between a SharedArrayBuffer source/target and a buffer in the address
 *    space, through the page table (AddressSpace.write / readInto, per 4 KiB page), through a
 *    zero-copy MappedView and through runs(); the baseline is Uint8Array.prototype.set between
 *    the same two SharedArrayBuffers (source SAB → the frames the buffer occupies), same run.
 * Each figure is the best of 5 runs (the machine is shared; the best run is the least disturbed).
 */
import { Allocator, AddressSpace, PhysicalMemory } from '@tsmpi/vm';
import { KiB, MiB, best, time } from './timing.js';


const memory = new PhysicalMemory({ bytes: 256 * MiB });
const space = new AddressSpace(memory);
const heap = new Allocator(space);

// ---------------------------------------------------------------- malloc/free
const rows: string[][] = [];
const empty = (_: number): number => _;
let sink = 0;
{
  const n = 2_000_000;
  const s = best(() =>
    time(() => {
      for (let i = 0; i < n; i++) sink += empty(empty(i));
    }),
  );
  rows.push(['loop + 2 empty calls (baseline)', fmt(n / s), '']);
}
for (const [label, size, n, touch] of [
  ['malloc/free 64 B (brk heap)', 64, 1_000_000, false],
  ['malloc/free 4 KiB (brk heap)', 4 * KiB, 500_000, false],
  ['malloc/free 256 KiB (mmap + munmap)', 256 * KiB, 100_000, false],
  ['malloc/free 256 KiB, first byte touched', 256 * KiB, 100_000, true],
] as const) {
  const s = best(() =>
    time(() => {
      for (let i = 0; i < n; i++) {
        const p = heap.malloc(size);
        if (touch) space.fill(p, 1, 1);
        heap.free(p);
      }
    }),
  );
  rows.push([label, fmt(n / s), `${((s / n) * 1e9).toFixed(0)} ns/pair`]);
}
table('malloc/free', ['case', 'pairs/s', 'per pair'], rows);

// ---------------------------------------------------------------- copy bandwidth
const copyRows: string[][] = [];
for (const size of [4 * KiB, 64 * KiB, 1 * MiB, 16 * MiB]) {
  const addr = space.mmap(size, { populate: true });
  const src = new Uint8Array(new SharedArrayBuffer(size)).map((_, i) => i & 0xff);
  const dst = new Uint8Array(new SharedArrayBuffer(size));
  const runs = space.runs(addr, size, 'write');
  const contiguous = runs.length === 1;
  const base = runs[0]!.offset;
  const iters = Math.max(4, Math.floor((256 * MiB) / size));
  const bytes = iters * size;
  const rate = (fn: () => void) => bytes / best(() => time(() => { for (let i = 0; i < iters; i++) fn(); })) / 1e6;

  const setW = rate(() => memory.bytes.set(src, base));
  const setR = rate(() => dst.set(memory.bytes.subarray(base, base + size)));
  const ptW = rate(() => space.write(addr, src));
  const ptR = rate(() => space.readInto(addr, dst));
  const view = space.view(addr, size, 'write');
  const viewW = contiguous ? rate(() => view.bytes.set(src)) : NaN;
  const runsW = rate(() => {
    let at = 0;
    for (const r of space.runs(addr, size, 'write')) {
      memory.bytes.set(src.subarray(at, at + r.length), r.offset);
      at += r.length;
    }
  });
  if (space.read(addr, Math.min(size, 4096)).some((b, i) => b !== (i & 0xff))) throw new Error('copy check failed');
  copyRows.push([
    human(size),
    setW.toFixed(0),
    ptW.toFixed(0),
    `${((ptW / setW) * 100).toFixed(0)}%`,
    viewW.toFixed(0),
    runsW.toFixed(0),
    setR.toFixed(0),
    ptR.toFixed(0),
    `${((ptR / setR) * 100).toFixed(0)}%`,
  ]);
  space.munmap(addr, size);
}
table('copy bandwidth, MB/s (10^6 B/s); baseline = TypedArray.set between the same SharedArrayBuffers', [
  'size',
  'set→frames',
  'write()',
  'write/set',
  'view.bytes.set',
  'runs()+set',
  'set←frames',
  'readInto()',
  'read/set',
], copyRows);
if (sink === -1) console.log(sink);

function fmt(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(0);
}

function human(n: number): string {
  return n >= MiB ? `${n / MiB} MiB` : `${n / KiB} KiB`;
}

function table(title: string, head: string[], body: string[][]): void {
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  console.log(`\n${title}\n${line(head)}\n${w.map((n) => '-'.repeat(n)).join('  ')}`);
  for (const r of body) console.log(line(r));
}
