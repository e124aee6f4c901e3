// The property on the wire: the same random datatypes on both ranks (fast-check samples from one
// seed), rank 0 sends count elements of each from a buffer full of a pattern, rank 1 receives them
// into a buffer full of 0xee; every byte of the typemap must carry the sender's byte at the same
// place, every other byte must still be 0xee. Counts reach past the eager threshold, so under
// --noncontig sge the scatter/gather rendezvous carries them, under pack the packed bytes do.
import fc from 'fast-check';
import { Datatype, UINT8, type Comm } from '@tsmpi/mpi';
import { build, bytesOf, descArb, layout, spanOf, type Desc } from './datatype-oracle.js';

export function main(c: Comm) {
  const seed = Number(process.argv[2] ?? 7);
  // first a case the sge rendezvous always takes (64 blocks of 256 bytes with gaps), then random ones
  const fixed: [Desc, number] = [{ k: 'vector', count: 64, bl: 256, stride: 300, of: { k: 'basic', size: 1 } }, 1];
  const cases = [fixed, ...fc.sample(fc.tuple(descArb, fc.integer({ min: 1, max: 600 })), { seed, numRuns: 16 })];
  const wrong: string[] = [];
  let sent = 0;
  for (const [i, [desc, wanted]] of cases.entries()) {
    // up to 64 KiB of data a message: rendezvous sizes, and many segments
    const count = Math.max(1, Math.min(wanted, Math.floor(65536 / Math.max(1, layout(desc).bytes.length))));
    const t = build(desc).commit();
    const bytes = bytesOf(desc, count);
    const span = spanOf(bytes);
    const buf = c.alloc(Uint8Array, span);
    if (c.rank === 0) {
      buf.set(Uint8Array.from({ length: span }, (_, k) => (k * 7 + i) % 251));
      c.send([buf, count, t], 1, i);
      sent += bytes.length;
    } else if (c.rank === 1) {
      buf.fill(0xee);
      const st = c.recv([buf, count, t], 0, i);
      if (st.byteCount !== bytes.length) wrong.push(`case ${i}: ${st.byteCount} bytes, want ${bytes.length}`);
      const got = buf.toArray();
      const inMap = new Uint8Array(span);
      for (const b of bytes) inMap[b] = 1;
      let bad = 0;
      for (let k = 0; k < span; k++) if (got[k] !== (inMap[k] ? (k * 7 + i) % 251 : 0xee)) bad++;
      if (bad > 0) wrong.push(`case ${i} (${t.name} × ${count}): ${bad} wrong bytes of ${span}`);
    }
    // the same bytes again from a coarse layout on the sender (two halves with a gap) into the random
    // one: the receiver's pieces are finer than the sender's segments (scatter/gather lists, split at maxSge)
    const half = bytes.length >> 1;
    const coarse = Datatype.hindexed([half, bytes.length - half], [0, half + 64], UINT8).commit();
    const stream = (j: number) => (j * 13 + i) % 253;
    if (c.rank === 0) {
      const from = c.alloc(Uint8Array, bytes.length + 64);
      from.set(Uint8Array.from({ length: bytes.length + 64 }, (_, k) => stream(k < half ? k : k - 64)));
      c.send([from, 1, coarse], 1, 1000 + i);
      from.free();
    } else if (c.rank === 1) {
      buf.fill(0xee);
      c.recv([buf, count, t], 0, 1000 + i);
      const got = buf.toArray();
      const want = new Uint8Array(span).fill(0xee);
      bytes.forEach((b, j) => (want[b] = stream(j)));
      let bad = 0;
      for (let k = 0; k < span; k++) if (got[k] !== want[k]) bad++;
      if (bad > 0) wrong.push(`case ${i} coarse to ${t.name} × ${count}: ${bad} wrong bytes of ${span}`);
    }
    coarse.free();
    if (desc.k !== 'basic') t.free(); // the basic element types are shared by every case
    buf.free();
  }
  const m = c.stats().messages;
  return { wrong, sent, packedSends: m.packedSends, sgeSends: m.sgeSends, sgeSegments: m.sgeSegments };
}
