/** Record i of the outbox test: a length that sweeps small, odd, page-sized and larger-than-the-ring sizes, and a pattern. */
export function outboxRecord(i: number): Uint8Array {
  const sizes = [1, 7, 8, 13, 4096, 20_000, 33_000, 70_000, 200_000];
  const n = sizes[i % sizes.length]! + (i % 5);
  const out = new Uint8Array(n);
  for (let k = 0; k < n; k++) out[k] = (k * 7 + i * 13) & 0xff;
  return out;
}
