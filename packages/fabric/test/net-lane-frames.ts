/** Frame `index` of writer `writer` in net-lanes.test.ts: [u32 body length][u8 writer][u32 index][a pattern of `size` bytes]. */
export function laneFrame(writer: number, index: number, size: number): Uint8Array {
  const f = new Uint8Array(4 + 5 + size);
  const v = new DataView(f.buffer);
  v.setUint32(0, 5 + size, true);
  v.setUint8(4, writer);
  v.setUint32(5, index, true);
  for (let k = 0; k < size; k++) f[9 + k] = (k * 7 + index * 13 + writer) & 0xff;
  return f;
}

/** The small frames' sizes the rank-like writers sweep (up to what is written directly). */
export const SMALL_SIZES = [1, 91, 1000, 4095, 9000, 16_000];
